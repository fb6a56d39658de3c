//! Store errors: what callers must tell apart (not found, conflicts), and the rest.

/// A failure in the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row a command needs does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique constraint refused the write (e.g. an email already in use).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row is still referenced (e.g. deleting a team that owns services).
    #[error("still referenced: {0}")]
    InUse(String),
    /// The configuration does not name a usable database.
    #[error("{0}")]
    Config(String),
    /// A stored value this version cannot read (corruption or a newer schema).
    #[error("unreadable stored value in {column}: {reason}")]
    Corrupt {
        column: &'static str,
        reason: String,
    },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::Conflict(db.message().to_string());
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return StoreError::InUse(db.message().to_string());
                }
                _ => {}
            }
        }
        StoreError::Database(e)
    }
}

impl StoreError {
    /// Builds the error for a stored value that does not parse.
    pub fn corrupt(column: &'static str, reason: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            column,
            reason: reason.to_string(),
        }
    }
}
