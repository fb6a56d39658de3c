//! Persistence for Triad: SQLite and PostgreSQL behind one API (sqlx's `Any` driver),
//! the migrations, and the helpers every aggregate module shares.
//!
//! SQL is written once in the portable subset (see ADR 0002): `$N` placeholders,
//! integer epoch-millisecond timestamps, TEXT ids and JSON as TEXT. Time is always
//! bound as a parameter; no query reads the database clock.

pub mod alert;
pub mod business_service;
pub mod contact;
pub mod counter;
pub mod error;
pub mod escalation;
pub mod impact;
pub mod incident;
pub mod integration_key;
pub mod notification;
pub mod obligation;
pub mod report;
pub mod reporter;
pub mod role;
pub mod schedule;
pub mod service;
pub mod severity_policy;
pub mod status;
pub mod subscriber;
pub mod team;
pub mod template;
pub mod timeline;
pub mod timer;
pub mod token;
pub mod tracker;
pub mod update;
pub mod user;

pub use error::StoreError;
pub use sqlx::AnyConnection as Conn;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `--database` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (or `sqlite:PATH`); the file and its folder are created.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, passed to the driver unchanged.
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::Config(
                    "a SQLite database needs a file path, e.g. sqlite://./triad-data/triad.db"
                        .into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        Err(StoreError::Config(
            "the database URL must start with sqlite:// or postgres://".into(),
        ))
    }
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password replaced by `***`, for logs and `config check`.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => redact_password(u),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The database: a connection pool plus, for SQLite, the in-process writer lock that
/// serialises write transactions (SQLite allows one writer; waiting on a lock here is
/// cheaper and fairer than spinning on `SQLITE_BUSY`).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: Option<Arc<Mutex<()>>>,
    /// The connection kept aside for [`Store::begin_held`].
    held: Held,
    /// The held connection's write-ahead log, which [`Store::sync_wal`] flushes.
    wal: Arc<std::sync::Mutex<Wal>>,
    /// Set by [`Store::fail_next_wal_sync`] (tests of what a failed flush does).
    fail_sync: Arc<std::sync::atomic::AtomicBool>,
}

/// SQLite's write-ahead log as the held connection resolved it: the path SQLite itself
/// uses (`PRAGMA database_list`, symlinks and URL decoding included) plus `-wal`, and the
/// file, opened once at the first flush.
#[derive(Debug, Default)]
struct Wal {
    path: Option<PathBuf>,
    file: Option<Arc<std::fs::File>>,
}

/// The connection one long-running writer keeps between its transactions, outside the
/// pool (so that its settings never reach other callers).
type Held = Arc<Mutex<Option<Conn>>>;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls back.
///
/// After any failed statement the transaction must be abandoned: PostgreSQL refuses
/// every further statement and turns the commit into a rollback, while SQLite would
/// carry on. Callers therefore propagate the first error and drop the transaction.
pub struct Tx {
    inner: TxInner,
    /// Declared after `inner`, so the in-process writer lock is released only after the
    /// transaction has ended (or, for a held connection, its rollback is under way).
    writer: Option<OwnedMutexGuard<()>>,
}

enum TxInner {
    /// On a connection from the pool, returned to it afterwards.
    Pooled(Transaction<'static, Any>),
    /// On the held connection (see [`Store::begin_held`]), begun and ended by hand.
    /// `open` until committed; dropped while open, it is rolled back.
    Held {
        conn: Option<OwnedMutexGuard<Option<Conn>>>,
        open: bool,
    },
}

impl Tx {
    pub fn conn(&mut self) -> &mut Conn {
        match &mut self.inner {
            TxInner::Pooled(tx) => tx,
            TxInner::Held { conn, .. } => match conn.as_mut().and_then(|slot| slot.as_mut()) {
                Some(c) => c,
                // `begin_held` fills the slot before it hands out the Tx, and only
                // `Drop` takes it away.
                None => unreachable!("a held transaction without its connection"),
            },
        }
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        let taken = TxInner::Held {
            conn: None,
            open: false,
        };
        match std::mem::replace(&mut self.inner, taken) {
            TxInner::Pooled(tx) => tx.commit().await?,
            held => {
                self.inner = held;
                // A failed COMMIT leaves the transaction open (SQLite) or aborted
                // (PostgreSQL); either way it stays marked open and `Drop` rolls back.
                self.conn().execute("COMMIT").await?;
                if let TxInner::Held { open, .. } = &mut self.inner {
                    *open = false;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        let TxInner::Held { conn, open: true } = &mut self.inner else {
            return;
        };
        let Some(mut slot) = conn.take() else {
            return;
        };
        let writer = self.writer.take();
        match tokio::runtime::Handle::try_current() {
            // Rolls back before anyone can use the connection (or, on SQLite, take the
            // in-process writer lock) again; a connection that cannot roll back is
            // closed, and the next `begin_held` takes a fresh one.
            Ok(rt) => {
                rt.spawn(async move {
                    let failed = match slot.as_mut() {
                        Some(c) => c.execute("ROLLBACK").await.is_err(),
                        None => false,
                    };
                    if failed {
                        *slot = None;
                    }
                    drop(slot);
                    drop(writer);
                });
            }
            // No runtime left (shutdown): closing the connection ends the transaction.
            Err(_) => {
                *slot = None;
            }
        }
    }
}

impl Store {
    /// Opens the database named by `url`; creates a SQLite file (and folder) if needed.
    pub async fn connect(url: &DatabaseUrl) -> Result<Store, StoreError> {
        install_default_drivers();
        match url {
            DatabaseUrl::Sqlite(path) => Self::connect_sqlite(path).await,
            DatabaseUrl::Postgres(u) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(u)
                    .await?;
                Ok(Store {
                    pool,
                    backend: Backend::Postgres,
                    writer: None,
                    held: Held::default(),
                    wal: Arc::default(),
                    fail_sync: Arc::default(),
                })
            }
        }
    }

    async fn connect_sqlite(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Config(format!("cannot create the folder {}: {e}", dir.display()))
            })?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            // A connection to a local file does not go stale; pinging it before every
            // use would cost a round trip to its worker thread per transaction.
            .test_before_acquire(false)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers work while one writer commits; FULL sync makes a
                    // commit durable before the API answers.
                    // The intake's flush of the log (`sync_wal`) relies on WAL mode.
                    let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                        .fetch_one(&mut *conn)
                        .await?;
                    if !mode.eq_ignore_ascii_case("wal") {
                        return Err(sqlx::Error::Configuration(
                            format!("SQLite kept journal_mode {mode} instead of WAL").into(),
                        ));
                    }
                    for pragma in [
                        "PRAGMA synchronous = FULL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 10000",
                    ] {
                        conn.execute(pragma).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Store {
            pool,
            backend: Backend::Sqlite,
            writer: Some(Arc::new(Mutex::new(()))),
            held: Held::default(),
            wal: Arc::default(),
            fail_sync: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration for this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction (one per decision: state, timeline, and later timers
    /// and outbox rows commit together or not at all).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let guard = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            // IMMEDIATE takes SQLite's write lock up front, so a transaction never fails
            // half-way when another process (e.g. `triad user add`) writes at the same time.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            inner: TxInner::Pooled(tx),
            writer: guard,
        })
    }

    /// Starts a write transaction like [`Store::begin`], on one connection kept aside
    /// between transactions instead of one from the pool: no acquire, no ping on
    /// release, and on SQLite the connection's page cache stays warm. For one
    /// long-running writer that commits often (the intake's group commit); callers
    /// take turns on the held connection.
    ///
    /// **On SQLite its commits are not flushed to disk** (`synchronous = NORMAL` on
    /// this connection only; every other connection keeps `FULL`): a committed
    /// transaction is durable only after a later [`Store::sync_wal`] has returned, and
    /// the caller must not report it as stored before then. One sync covers every
    /// commit before it, which is what lets the writer start its next batch while the
    /// previous one is being flushed. On PostgreSQL a commit is durable when it returns.
    pub async fn begin_held(&self) -> Result<Tx, StoreError> {
        let writer = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let mut slot = self.held.clone().lock_owned().await;
        if slot.is_none() {
            let mut c = self.pool.acquire().await?.detach();
            if self.backend == Backend::Sqlite {
                c.execute("PRAGMA synchronous = NORMAL").await?;
                let path = wal_path(&mut c).await?;
                if let Ok(mut wal) = self.wal.lock() {
                    *wal = Wal { path, file: None };
                }
            }
            *slot = Some(c);
        }
        let Some(conn) = slot.as_mut() else {
            unreachable!("filled above")
        };
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        if let Err(e) = conn.execute(begin).await {
            *slot = None;
            return Err(e.into());
        }
        Ok(Tx {
            inner: TxInner::Held {
                conn: Some(slot),
                open: true,
            },
            writer,
        })
    }

    /// A pooled connection for reads outside a transaction.
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<Any>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.read().await?;
        conn.execute("SELECT 1").await?;
        Ok(())
    }

    /// Makes every transaction committed through [`Store::begin_held`] so far durable:
    /// flushes SQLite's write-ahead log to disk (`fdatasync`, on the blocking pool).
    /// Nothing to do on PostgreSQL.
    pub async fn sync_wal(&self) -> Result<(), StoreError> {
        if self
            .fail_sync
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StoreError::Config(
                "cannot flush the database's write-ahead log to disk: injected failure".into(),
            ));
        }
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let flush = |e: std::io::Error| {
            StoreError::Config(format!(
                "cannot flush the database's write-ahead log to disk: {e}"
            ))
        };
        let file = {
            let Ok(mut wal) = self.wal.lock() else {
                return Err(StoreError::Config(
                    "the write-ahead log state is poisoned".into(),
                ));
            };
            match (&wal.file, &wal.path) {
                (Some(f), _) => f.clone(),
                // Nothing was committed through the held connection yet.
                (None, None) => return Ok(()),
                (None, Some(path)) => {
                    let f = Arc::new(std::fs::File::open(path).map_err(flush)?);
                    // The log's directory entry too, once: SQLite would flush it at the
                    // log's first sync, which the held connection never makes itself.
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::File::open(dir)
                            .and_then(|d| d.sync_all())
                            .map_err(flush)?;
                    }
                    wal.file = Some(f.clone());
                    f
                }
            }
        };
        match tokio::task::spawn_blocking(move || file.sync_data()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(flush(e)),
            Err(e) => Err(StoreError::Config(format!(
                "the write-ahead log flush did not finish: {e}"
            ))),
        }
    }

    /// Makes the next [`Store::sync_wal`] fail as a disk error would, on either backend.
    /// For tests of the intake's reaction; nothing in Triad calls it.
    #[doc(hidden)]
    pub fn fail_next_wal_sync(&self) {
        self.fail_sync
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Closes every connection, waiting for those in use to be returned (the held one
    /// once its transaction, if any, has ended).
    pub async fn close(&self) {
        if let Some(c) = self.held.lock().await.take() {
            let _ = sqlx::Connection::close(c).await;
        }
        self.pool.close().await;
    }
}

/// The write-ahead log of the database `conn` has open, from the path SQLite resolved
/// (`None` for an in-memory database, which has no log).
async fn wal_path(conn: &mut Conn) -> Result<Option<PathBuf>, StoreError> {
    use sqlx::Row;
    let rows = sqlx::query("PRAGMA database_list")
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        let name: String = row.try_get("name")?;
        let file: String = row.try_get("file")?;
        if name == "main" {
            if file.is_empty() {
                return Ok(None);
            }
            return Ok(Some(PathBuf::from(format!("{file}-wal"))));
        }
    }
    Err(StoreError::Config(
        "SQLite did not list its main database".into(),
    ))
}

/// The placeholders of a multi-row `VALUES` list: `rows` tuples of `columns` numbered
/// parameters each, `($1, $2), ($3, $4), …`, bound row after row.
pub(crate) fn values_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads an integer flag column (0/1) as a bool.
pub(crate) fn flag(v: i64) -> bool {
    v != 0
}

/// A new time-ordered unique id (UUID v7), as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            "sqlite://./triad-data/triad.db"
                .parse::<DatabaseUrl>()
                .unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("./triad-data/triad.db"))
        );
        assert_eq!(
            "sqlite:/tmp/x.db?mode=rwc".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
        assert_eq!(values_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_rows(0, 3), "");
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
        assert_eq!(
            "postgres://u@h/db"
                .parse::<DatabaseUrl>()
                .unwrap()
                .backend(),
            Backend::Postgres
        );
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn migrations_are_in_lockstep() {
        let names = |m: &Migrator| -> Vec<(i64, String)> {
            m.iter()
                .map(|x| (x.version, x.description.to_string()))
                .collect()
        };
        assert_eq!(names(&SQLITE_MIGRATIONS), names(&POSTGRES_MIGRATIONS));
        assert!(SQLITE_MIGRATIONS.iter().next().is_some());
    }
}
