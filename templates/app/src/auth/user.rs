//! Users: the database row, identity normalization, and account administration queries.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use anyhow::{bail, Context};
use serde::Serialize;
use sqlx::{FromRow, Row};
use unicode_normalization::UnicodeNormalization;

use crate::db::{Db, Pool};
use crate::permissions::Permission;

/// Maximum username length, in characters.
pub const MAX_USERNAME_LENGTH: usize = 150;
/// Maximum e-mail address length, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// A user row, without the password hash.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub auth_version: i64,
    pub date_joined: i64,
    pub last_login: Option<i64>,
}

const USER_COLUMNS: &str = "id, username, email, first_name, last_name, is_active, is_staff, \
    is_superuser, auth_version, date_joined, last_login";

/// A signed-in user with the permissions held at the time of the request.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: User,
    /// `app_label.codename` of every permission held directly or through a group.
    pub permissions: BTreeSet<String>,
    pub groups: Vec<String>,
}

impl AuthUser {
    /// Returns whether the user has the permission. Superusers have every permission and
    /// inactive users none.
    pub fn has_perm(&self, permission: Permission) -> bool {
        if !self.user.is_active {
            return false;
        }
        self.user.is_superuser || self.permissions.contains(&permission.key())
    }

    /// Returns every permission the user has, as `app_label.codename`.
    pub fn all_permissions(&self) -> BTreeSet<String> {
        if !self.user.is_active {
            return BTreeSet::new();
        }
        if self.user.is_superuser {
            let mut all = self.permissions.clone();
            all.extend(
                crate::permissions::PERMISSIONS
                    .iter()
                    .map(|spec| spec.permission.key()),
            );
            return all;
        }
        self.permissions.clone()
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.user.first_name, self.user.last_name)
            .trim()
            .to_owned()
    }
}

/// The part of the user that templates and the browser may show. It carries no authorization methods:
/// checks use [`AuthUser`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct UserSnapshot {
    pub is_authenticated: bool,
    pub username: String,
    pub email: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub perms: Vec<String>,
}

impl From<&AuthUser> for UserSnapshot {
    fn from(user: &AuthUser) -> Self {
        Self {
            is_authenticated: true,
            username: user.user.username.clone(),
            email: user.user.email.clone(),
            is_staff: user.user.is_staff,
            is_superuser: user.user.is_superuser,
            perms: user.all_permissions().into_iter().collect(),
        }
    }
}

/// Trims and lowercases an e-mail address.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// NFKC-normalizes a username, so that look-alike compatibility characters become one form.
pub fn normalize_username(username: &str) -> String {
    username.trim().nfkc().collect()
}

/// Returns the case-insensitive key that makes usernames unique: `Alice` and `ALICE` collide.
pub fn username_key(username: &str) -> String {
    let lowered: String = normalize_username(username).to_lowercase();
    lowered.nfkc().collect()
}

/// Checks a normalized username: 1 to 150 letters, digits and `@ . + - _`.
pub fn validate_username(username: &str) -> Result<(), String> {
    if username.is_empty() {
        return Err("Enter a username.".into());
    }
    if username.chars().count() > MAX_USERNAME_LENGTH {
        return Err(format!(
            "Ensure this value has at most {MAX_USERNAME_LENGTH} characters."
        ));
    }
    let allowed = |c: char| c.is_alphanumeric() || "@.+-_".contains(c);
    if !username.chars().all(allowed) {
        return Err(
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
                .into(),
        );
    }
    Ok(())
}

/// Checks a normalized e-mail address: one `@` with text on both sides, a dot in the domain,
/// no spaces or control characters.
pub fn validate_email(email: &str) -> Result<(), String> {
    let invalid = || Err("Enter a valid email address.".to_owned());
    if email.is_empty() || email.len() > MAX_EMAIL_LENGTH {
        return invalid();
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid();
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return invalid();
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || local.contains('@') || !domain_ok {
        return invalid();
    }
    Ok(())
}

/// Finds a user by the identifier typed on the login form: the e-mail address in e-mail
/// mode, the username otherwise. Returns the user and the password hash.
pub async fn find_for_login(
    pool: &Pool,
    identifier: &str,
    email_login: bool,
) -> sqlx::Result<Option<(User, String)>> {
    let (column, value) = if email_login {
        ("email", normalize_email(identifier))
    } else {
        ("username_key", username_key(identifier))
    };
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE {column} = $1");
    let row = sqlx::query_as::<_, UserWithHash>(&sql)
        .bind(value)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|row| (row.user, row.password_hash)))
}

#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

pub async fn find_by_id(pool: &Pool, id: i64) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
}

pub async fn find_by_email(pool: &Pool, email: &str) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    sqlx::query_as(&sql)
        .bind(normalize_email(email))
        .fetch_optional(pool)
        .await
}

/// Finds a user by username or, failing that, by e-mail address.
pub async fn find_by_username_or_email(pool: &Pool, name: &str) -> sqlx::Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1 OR email = $2");
    sqlx::query_as(&sql)
        .bind(username_key(name))
        .bind(normalize_email(name))
        .fetch_optional(pool)
        .await
}

pub async fn password_hash(pool: &Pool, user_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// Loads the user with their permissions and groups, or `None` when the user is gone.
///
/// One query does it, because it runs for every request and every event. The permissions
/// and the groups each come back as one string, joined with a control character that no
/// name contains. The session store usually loads the user in the same query as the session
/// row (see [`crate::auth::session`]), so this query serves the other cases.
pub async fn load_auth_user(pool: &Pool, id: i64) -> sqlx::Result<Option<AuthUser>> {
    let row = sqlx::query(&LOAD_AUTH_USER_SQL)
        .bind(id)
        .bind(GRANT_SEPARATOR.to_string())
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => auth_user_from_row(&row),
        None => Ok(None),
    }
}

/// Reads the user, their permissions and their groups from a row of [`LOAD_AUTH_USER_SQL`]
/// or of the session store's joined query, or `None` when the row has no user.
pub fn auth_user_from_row(row: &<Db as sqlx::Database>::Row) -> sqlx::Result<Option<AuthUser>> {
    if row.try_get::<Option<i64>, _>("id")?.is_none() {
        return Ok(None);
    }
    let row = UserWithGrants::from_row(row)?;
    let split = |joined: Option<String>| -> Vec<String> {
        joined
            .unwrap_or_default()
            .split(GRANT_SEPARATOR)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let permissions = split(row.permission_keys).into_iter().collect();
    let mut groups = split(row.group_names);
    groups.sort();
    Ok(Some(AuthUser {
        user: row.user,
        permissions,
        groups,
    }))
}

/// Joins permission keys and group names in the queries that load a user with their grants.
pub const GRANT_SEPARATOR: char = '\u{1f}';

/// Returns the select list that [`auth_user_from_row`] reads: the user's columns from the
/// table aliased `table`, and the grants of the user whose id is `user_id` (a column or a
/// parameter), joined with the separator in parameter `separator`.
pub fn auth_user_columns(table: &str, user_id: &str, separator: &str) -> String {
    let columns: Vec<String> = USER_COLUMNS
        .split(", ")
        .map(|column| format!("{table}.{column}"))
        .collect();
    format!(
        "{}, \
         (SELECT string_agg(key, {separator}) FROM ( \
             SELECT p.app_label || '.' || p.codename AS key FROM auth_permissions p \
             JOIN user_permissions up ON up.permission_id = p.id WHERE up.user_id = {user_id} \
             UNION \
             SELECT p.app_label || '.' || p.codename FROM auth_permissions p \
             JOIN group_permissions gp ON gp.permission_id = p.id \
             JOIN user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = {user_id} \
         ) AS held) AS permission_keys, \
         (SELECT string_agg(g.name, {separator}) FROM auth_groups g \
             JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = {user_id}) AS group_names",
        columns.join(", ")
    )
}

/// The query of [`load_auth_user`], built once.
static LOAD_AUTH_USER_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM users u WHERE u.id = $1",
        auth_user_columns("u", "$1", "$2")
    )
});

#[derive(sqlx::FromRow)]
struct UserWithGrants {
    #[sqlx(flatten)]
    user: User,
    permission_keys: Option<String>,
    group_names: Option<String>,
}

/// A new account to create.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// The reason an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with that username already exists")]
    UsernameTaken,
    #[error("a user with that email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Inserts a user. The unique indexes decide duplicates, so two concurrent registrations of
/// one name cannot both succeed.
pub async fn create(pool: &Pool, new_user: NewUser<'_>) -> Result<i64, CreateUserError> {
    let username = normalize_username(new_user.username);
    let email = normalize_email(new_user.email);
    let result = sqlx::query_scalar(
        "INSERT INTO users (username, username_key, email, password_hash, is_staff, \
         is_superuser, date_joined) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&username)
    .bind(username_key(&username))
    .bind(&email)
    .bind(new_user.password_hash)
    .bind(new_user.is_staff)
    .bind(new_user.is_superuser)
    .bind(crate::now())
    .fetch_one(pool)
    .await;

    match result {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            if err.message().contains("email") {
                Err(CreateUserError::EmailTaken)
            } else {
                Err(CreateUserError::UsernameTaken)
            }
        }
        Err(err) => Err(err.into()),
    }
}

/// Stores a new password hash and bumps the auth version, which signs out every session
/// that recorded the old version. Returns the new version.
pub async fn set_password(pool: &Pool, user_id: i64, password_hash: &str) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    let version = set_password_in(&mut tx, user_id, password_hash).await?;
    tx.commit().await?;
    Ok(version)
}

/// [`set_password`] inside a transaction the caller commits.
pub async fn set_password_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    user_id: i64,
    password_hash: &str,
) -> sqlx::Result<i64> {
    let version: i64 = sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, auth_version = auth_version + 1 WHERE id = $1 \
         RETURNING auth_version",
    )
    .bind(user_id)
    .bind(password_hash)
    .fetch_one(&mut **tx)
    .await?;
    // A reset link issued before the change must not work after it.
    sqlx::query("DELETE FROM password_reset_tokens WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(version)
}

/// Replaces an outdated hash of the same password without signing anyone out.
pub async fn upgrade_password_hash(
    pool: &Pool,
    user_id: i64,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user_id)
        .bind(password_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn record_login(pool: &Pool, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET last_login = $2 WHERE id = $1")
        .bind(user_id)
        .bind(crate::now())
        .execute(pool)
        .await?;
    Ok(())
}

/// Activates or deactivates an account. Deactivation also bumps the auth version, so open
/// sessions end on their next request.
pub async fn set_active(pool: &Pool, user_id: i64, active: bool) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET is_active = $2, \
         auth_version = auth_version + CASE WHEN $2 THEN 0 ELSE 1 END WHERE id = $1",
    )
    .bind(user_id)
    .bind(active)
    .execute(pool)
    .await?;
    Ok(())
}

async fn permission_id(pool: &Pool, key: &str) -> anyhow::Result<i64> {
    let Some((app_label, codename)) = key.split_once('.') else {
        bail!("invalid permission `{key}`: expected `app_label.codename`");
    };
    sqlx::query_scalar("SELECT id FROM auth_permissions WHERE app_label = $1 AND codename = $2")
        .bind(app_label)
        .bind(codename)
        .fetch_optional(pool)
        .await?
        .with_context(|| {
            format!("permission `{key}` not found; run `migrate` after declaring it in rdauth.toml")
        })
}

async fn group_id(pool: &Pool, name: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT id FROM auth_groups WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .with_context(|| {
            format!("group `{name}` not found; declare it in rdauth.toml and run `migrate`")
        })
}

/// Grants (`granted = true`) or revokes a permission held directly by a user.
pub async fn set_permission(
    pool: &Pool,
    user_id: i64,
    key: &str,
    granted: bool,
) -> anyhow::Result<bool> {
    let permission_id = permission_id(pool, key).await?;
    let sql = if granted {
        "INSERT INTO user_permissions (user_id, permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM user_permissions WHERE user_id = $1 AND permission_id = $2"
    };
    let changed = sqlx::query(sql)
        .bind(user_id)
        .bind(permission_id)
        .execute(pool)
        .await?;
    Ok(changed.rows_affected() > 0)
}

/// Adds a user to (`member = true`) or removes them from a group.
pub async fn set_group(
    pool: &Pool,
    user_id: i64,
    group: &str,
    member: bool,
) -> anyhow::Result<bool> {
    let group_id = group_id(pool, group).await?;
    let sql = if member {
        "INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM user_groups WHERE user_id = $1 AND group_id = $2"
    };
    let changed = sqlx::query(sql)
        .bind(user_id)
        .bind(group_id)
        .execute(pool)
        .await?;
    Ok(changed.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_key_folds_case_and_compatibility_forms() {
        assert_eq!(username_key("Alice"), username_key("ALICE"));
        // U+FF21 is a fullwidth A, which NFKC maps to A.
        assert_eq!(username_key("\u{FF21}lice"), username_key("alice"));
    }

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(normalize_email("  Bob@Example.COM "), "bob@example.com");
    }

    #[test]
    fn email_validation_rejects_malformed_addresses() {
        for bad in [
            "",
            "bob",
            "bob@",
            "@example.com",
            "bob@example",
            "b ob@example.com",
            "bob@.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        assert!(validate_email("bob@example.com").is_ok());
    }

    #[test]
    fn username_validation_rejects_symbols() {
        assert!(validate_username("alice_1.b+c@d-e").is_ok());
        assert!(validate_username("alice smith").is_err());
        assert!(validate_username("<script>").is_err());
        assert!(validate_username("").is_err());
    }
}
