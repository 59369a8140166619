/// What went wrong with a request to a node's HTTP API, in a few words: "timeout",
/// "connection refused", or the error with its whole source chain.
pub(super) fn http_error_text(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection refused".into()
    } else {
        crate::client::error_chain(e)
    }
}
