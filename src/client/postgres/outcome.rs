//! The PostgreSQL client's outcome rule: what each tokio-postgres error means for the
//! operation that met it (its [`ErrorKind`], whose outcome is fixed by the kind), and its text.

use crate::client::{Failure, connect_error_kind};
use crate::history::ErrorKind;

/// What a PostgreSQL client error says, in full: the server's SQLSTATE and message for an
/// error the server sent ("53300: sorry, too many clients already"), else the whole source
/// chain, where tokio-postgres keeps the interesting part ("connection refused").
pub fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.code().code(), db.message());
    }
    crate::client::error_chain(e)
}

/// A connection that could not be opened: nothing was sent on it (`fail`), refused or timed out
/// as its I/O error says.
pub(super) fn connect_failure(e: &tokio_postgres::Error) -> Failure {
    Failure::new(connect_error_kind(e), format!("connect: {}", error_text(e)))
}

/// An error that ended a statement after it was sent: the server's words if it answered, else
/// the broken connection's.
pub(super) fn sent_failure(e: &tokio_postgres::Error) -> Failure {
    let text = if e.as_db_error().is_some() {
        error_text(e)
    } else {
        format!("connection lost: {e}")
    };
    let message = e.as_db_error().map(|db| db.message());
    Failure::new(sent_error_kind(e.code().map(|c| c.code()), message), text)
}

/// The kind of an error that ended a write after its INSERT was sent (an autocommit statement:
/// its COMMIT goes with it), from the server's SQLSTATE (`None`: no answer from the server, the
/// connection broke). With [`ErrorKind::outcome`] this is the outcome rule for a sent write;
/// errors before it was sent are all `fail` (or `not_sent`).
///
/// - no SQLSTATE: the connection broke: `connection_lost` (`unknown`);
/// - 25006: the server is read-only: `read_only` (`fail`);
/// - 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: the server was
///   going down, perhaps while the commit waited for a synchronous standby (the row is then
///   committed locally): `server_shutdown` (`unknown`);
/// - 08P01 from a pooler (pgBouncer answers its own failures so): its server connection broke
///   under the statement ("server conn crashed?"), which may have committed: `connection_lost`
///   (`unknown`); but it refused the statement before any server had it (its server login
///   failing, its queue wait over): `server_error` (`fail`);
/// - any other: `server_error` (`fail`).
fn sent_error_kind(sqlstate: Option<&str>, message: Option<&str>) -> ErrorKind {
    match sqlstate {
        None => ErrorKind::ConnectionLost,
        Some("25006") => ErrorKind::ReadOnly,
        Some("57P01" | "57P02" | "57P03") => ErrorKind::ServerShutdown,
        Some("08P01") if !message.is_some_and(pooler_never_sent_it) => ErrorKind::ConnectionLost,
        Some(_) => ErrorKind::ServerError,
    }
}

/// Whether a pooler's 08P01 says it refused the statement before handing it to any server:
/// pgBouncer's words when its server login keeps failing (`server_login_retry`) or a client
/// waited for a server connection past `query_wait_timeout`.
fn pooler_never_sent_it(message: &str) -> bool {
    message.starts_with("server login has been failing") || message.contains("query_wait_timeout")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    #[test]
    fn errors_after_the_insert_was_sent_are_unknown_when_it_may_have_committed() {
        use tokio_postgres::error::SqlState;
        let outcome = |state: Option<&SqlState>| sent_error_kind(state.map(SqlState::code), None);
        assert_eq!(outcome(None), ErrorKind::ConnectionLost);
        assert_eq!(
            outcome(Some(&SqlState::READ_ONLY_SQL_TRANSACTION)),
            ErrorKind::ReadOnly
        );
        for state in [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ] {
            let kind = outcome(Some(&state));
            assert_eq!(kind, ErrorKind::ServerShutdown, "{}", state.code());
            assert_eq!(kind.outcome(), Outcome::Unknown, "{}", state.code());
        }
        let kind = outcome(Some(&SqlState::UNIQUE_VIOLATION));
        assert_eq!(
            (kind, kind.outcome()),
            (ErrorKind::ServerError, Outcome::Fail)
        );
        assert_eq!(outcome(None).outcome(), Outcome::Unknown);
        assert_eq!(ErrorKind::ReadOnly.outcome(), Outcome::Fail);
    }

    #[test]
    fn a_pooler_s_own_errors_are_unknown_unless_it_never_sent_the_statement() {
        // pgBouncer 1.18's words, as seen in drills
        let pooler = |message: &str| sent_error_kind(Some("08P01"), Some(message));
        let crashed = pooler("server conn crashed?");
        assert_eq!(
            (crashed, crashed.outcome()),
            (ErrorKind::ConnectionLost, Outcome::Unknown)
        );
        for refused in [
            "server login has been failing, try again later (server_login_retry)",
            "query_wait_timeout",
        ] {
            let kind = pooler(refused);
            assert_eq!(
                (kind, kind.outcome()),
                (ErrorKind::ServerError, Outcome::Fail),
                "{refused}"
            );
        }
    }
}
