/// What a PostgreSQL client error says, in full: the server's SQLSTATE and message for an
/// error the server sent ("53300: sorry, too many clients already"), else the whole source
/// chain, where tokio-postgres keeps the interesting part ("connection refused").
pub fn pg_error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}
