//! A fresh, empty database per test: a temporary SQLite file, or a new PostgreSQL
//! database (dropped again when the test ends) on the server named by
//! `TRIAD_TEST_POSTGRES_URL`.

use sqlx::{Connection, Executor};
use triad_store::DatabaseUrl;

/// The PostgreSQL server tests use, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn postgres_url() -> Option<String> {
    std::env::var("TRIAD_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub struct TestDb {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::Sqlite(dir.path().join("triad.db"));
        TestDb {
            url,
            _dir: Some(dir),
            drop_pg: None,
        }
    }

    /// `None` when `TRIAD_TEST_POSTGRES_URL` is unset; panics when it is set but the
    /// server cannot be reached, so CI fails loudly.
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_url()?;
        sqlx::any::install_default_drivers();
        let name = format!("triad_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("TRIAD_TEST_POSTGRES_URL is set but unreachable: {e}"));
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = with_database(&admin, &name);
        Some(TestDb {
            url: DatabaseUrl::Postgres(url),
            _dir: None,
            drop_pg: Some((admin, name)),
        })
    }

    /// The URL as the `--database` flag takes it.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => u.clone(),
        }
    }
}

/// `admin` with its database name replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.drop_pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime; use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::AnyConnection::connect(&admin).await.ok()?;
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://h:1", "x"),
            "postgres://h:1/x"
        );
        assert_eq!(
            super::with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
