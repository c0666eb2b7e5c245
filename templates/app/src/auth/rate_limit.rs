//! Fixed-window counters of failed attempts, kept in the database so that every app instance
//! sees the same counts.

use crate::db::Pool;

/// A counter and the number of failures it allows per window.
#[derive(Clone, Debug)]
pub struct Limit {
    pub key: String,
    pub max_failures: i64,
}

/// Returns whether any of the counters has reached its maximum within the current window.
pub async fn is_limited(pool: &Pool, limits: &[Limit]) -> sqlx::Result<bool> {
    let now = crate::now();
    for limit in limits {
        let count: Option<i64> = sqlx::query_scalar(
            "SELECT count FROM rate_limits WHERE key = $1 AND window_ends_at > $2",
        )
        .bind(&limit.key)
        .bind(now)
        .fetch_optional(pool)
        .await?;
        if count.unwrap_or(0) >= limit.max_failures {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Counts one failure on each counter; a counter whose window has ended starts a new one.
pub async fn record_failure(
    pool: &Pool,
    limits: &[Limit],
    window_seconds: i64,
) -> sqlx::Result<()> {
    let now = crate::now();
    for limit in limits {
        sqlx::query(
            "INSERT INTO rate_limits (key, count, window_ends_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             count = CASE WHEN rate_limits.window_ends_at <= $3 THEN 1 ELSE rate_limits.count + 1 END, \
             window_ends_at = CASE WHEN rate_limits.window_ends_at <= $3 THEN $2 \
             ELSE rate_limits.window_ends_at END",
        )
        .bind(&limit.key)
        .bind(now + window_seconds)
        .bind(now)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// Resets a counter.
pub async fn clear(pool: &Pool, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
