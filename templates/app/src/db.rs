//! The SQLite pool, migrations, and the permission and group rows that `rdauth.toml` declares.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::permissions::{GROUPS, PERMISSIONS};

pub type Pool = SqlitePool;

/// Opens the database, creating the file when it does not exist yet.
pub async fn connect(database_url: &str) -> anyhow::Result<Pool> {
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("invalid `DATABASE_URL` `{database_url}`"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));

    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("failed to open the database at `{database_url}`"))
}

/// The changes [`migrate`] made, for the `migrate` command's report.
#[derive(Debug, Default)]
pub struct MigrateReport {
    pub applied: Vec<String>,
    pub created_permissions: Vec<String>,
    pub created_groups: Vec<String>,
    /// Permissions in the database that `rdauth.toml` no longer declares. They are kept,
    /// because users and groups may still hold them.
    pub undeclared_permissions: Vec<String>,
    /// Groups in the database that `rdauth.toml` no longer declares; they are kept too.
    pub undeclared_groups: Vec<String>,
}

/// Applies pending migrations, then creates the declared permissions and groups.
///
/// Running it again changes nothing.
pub async fn migrate(pool: &Pool) -> anyhow::Result<MigrateReport> {
    let mut report = MigrateReport::default();

    let migrator = sqlx::migrate!("./migrations");
    let applied_before: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
        .unwrap_or_default();
    migrator
        .run(pool)
        .await
        .context("failed to apply migrations")?;
    for migration in migrator.iter() {
        if !applied_before.contains(&migration.version) {
            report.applied.push(format!(
                "{:04}_{}",
                migration.version, migration.description
            ));
        }
    }

    sync_permissions(pool, &mut report).await?;
    Ok(report)
}

async fn sync_permissions(pool: &Pool, report: &mut MigrateReport) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;

    for spec in PERMISSIONS {
        let inserted = sqlx::query(
            "INSERT INTO auth_permissions (app_label, codename, name) VALUES ($1, $2, $3) \
             ON CONFLICT (app_label, codename) DO NOTHING",
        )
        .bind(spec.app_label)
        .bind(spec.codename)
        .bind(spec.name)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() > 0 {
            report.created_permissions.push(spec.permission.key());
        } else {
            // A renamed permission keeps its row, so grants survive the rename.
            sqlx::query(
                "UPDATE auth_permissions SET name = $3 WHERE app_label = $1 AND codename = $2",
            )
            .bind(spec.app_label)
            .bind(spec.codename)
            .bind(spec.name)
            .execute(&mut *tx)
            .await?;
        }
    }

    for group in GROUPS {
        let inserted =
            sqlx::query("INSERT INTO auth_groups (name) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(group.name)
                .execute(&mut *tx)
                .await?;
        if inserted.rows_affected() > 0 {
            report.created_groups.push(group.name.to_owned());
        }
        for permission in group.permissions {
            let spec = permission.spec();
            sqlx::query(
                "INSERT INTO group_permissions (group_id, permission_id) \
                 SELECT g.id, p.id FROM auth_groups g, auth_permissions p \
                 WHERE g.name = $1 AND p.app_label = $2 AND p.codename = $3 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(group.name)
            .bind(spec.app_label)
            .bind(spec.codename)
            .execute(&mut *tx)
            .await?;
        }
    }

    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT app_label, codename FROM auth_permissions ORDER BY id")
            .fetch_all(&mut *tx)
            .await?;
    for (app_label, codename) in stored {
        let declared = PERMISSIONS
            .iter()
            .any(|spec| spec.app_label == app_label && spec.codename == codename);
        if !declared {
            report
                .undeclared_permissions
                .push(format!("{app_label}.{codename}"));
        }
    }

    let groups: Vec<String> = sqlx::query_scalar("SELECT name FROM auth_groups ORDER BY id")
        .fetch_all(&mut *tx)
        .await?;
    for name in groups {
        if !GROUPS.iter().any(|group| group.name == name) {
            report.undeclared_groups.push(name);
        }
    }

    tx.commit().await?;
    Ok(())
}

/// Deletes expired sessions, reset tokens and rate-limit counters.
pub async fn delete_expired(pool: &Pool) -> anyhow::Result<u64> {
    let now = crate::now();
    let mut deleted = 0;
    for statement in [
        "DELETE FROM sessions WHERE expires_at <= $1",
        "DELETE FROM password_reset_tokens WHERE expires_at <= $1",
        "DELETE FROM rate_limits WHERE window_ends_at <= $1",
    ] {
        deleted += sqlx::query(statement)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
