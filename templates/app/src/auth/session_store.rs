//! The server-side session store: one row per session in the `sessions` table.
//!
//! Unlike an upserting store, [`SqlSessionStore::save`] only updates a row that still exists.
//! A request that loaded a session before a concurrent logout or session id change deleted the
//! row can therefore never bring that session back by saving it, and an event of the bridge
//! never creates a row at all.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::auth::session::{self, USER_ID_KEY};
use crate::auth::user::{self, GRANT_SEPARATOR};
use crate::db::Pool;

/// The session row with its user, permissions and groups, so that a request resolves its
/// user in one round trip.
static SESSION_WITH_USER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT s.data, s.expires_at, {} FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.expires_at > $2",
        user::auth_user_columns("u", "s.user_id", "$3")
    )
});

#[derive(Clone, Debug)]
pub struct SqlSessionStore {
    pool: Pool,
}

impl SqlSessionStore {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

fn backend(err: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// Serializes the session data for the `data` column.
fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    serde_json::to_vec(&record.data).map_err(|err| session_store::Error::Encode(err.to_string()))
}

/// Returns the user id recorded in the session data, which is stored in its own column so
/// that every session of a user can be ended at once.
fn user_id(record: &Record) -> Option<i64> {
    record
        .data
        .get(USER_ID_KEY)
        .and_then(|value| value.as_i64())
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // The browser never receives a cookie set during an event, so a session created there
        // would be unreachable; and creating one would bring back a session that a logout just
        // deleted.
        if crate::bridge::in_event() {
            tracing::debug!("an event tried to create a session; skipped");
            return Ok(());
        }

        let data = encode(record)?;

        // A 128-bit random id colliding is unlikely, but a collision must never merge two
        // sessions, so a taken id is replaced by a fresh one.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(user_id(record))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;

        let updated = sqlx::query(
            "UPDATE sessions SET data = $2, expires_at = $3, user_id = $4 WHERE id = $1",
        )
        .bind(record.id.to_string())
        .bind(&data)
        .bind(record.expiry_date.unix_timestamp())
        .bind(user_id(record))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if updated.rows_affected() == 0 {
            tracing::debug!("session row is gone; not recreating it");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let with_user = session::wants_user_with_session();
        let query = if with_user {
            sqlx::query(&SESSION_WITH_USER_SQL)
                .bind(id.to_string())
                .bind(now)
                .bind(GRANT_SEPARATOR.to_string())
        } else {
            sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id.to_string())
                .bind(now)
        };
        let row = query.fetch_optional(&self.pool).await.map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };

        let data: Vec<u8> = row.try_get("data").map_err(backend)?;
        let expires_at: i64 = row.try_get("expires_at").map_err(backend)?;
        if with_user {
            let user = user::auth_user_from_row(&row).map_err(backend)?;
            session::keep_user_with_session(*id, user);
        }

        let data = serde_json::from_slice(&data)
            .map_err(|err| session_store::Error::Decode(err.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|err| session_store::Error::Decode(err.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Ends every session of a user, except `keep` when given.
pub async fn delete_user_sessions(
    pool: &Pool,
    user_id: i64,
    keep: Option<Id>,
) -> sqlx::Result<u64> {
    let keep = keep.map(|id| id.to_string()).unwrap_or_default();
    let deleted = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id != $2")
        .bind(user_id)
        .bind(keep)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected())
}
