-- Users, groups and permissions, the session store, password reset tokens and login
-- rate-limit counters. Timestamps are Unix seconds (UTC).

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    -- NFKC-normalized, case-folded username computed by the app; uniqueness is enforced here.
    username_key TEXT NOT NULL UNIQUE,
    -- Trimmed and lowercased by the app.
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    is_active INTEGER NOT NULL DEFAULT 1,
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    -- Bumped by every password change or reset; a session that recorded an older value is
    -- treated as anonymous.
    auth_version INTEGER NOT NULL DEFAULT 1,
    date_joined INTEGER NOT NULL,
    last_login INTEGER
);

CREATE TABLE auth_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE auth_permissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_label TEXT NOT NULL,
    codename TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (app_label, codename)
);

CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE TABLE user_permissions (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES auth_permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
);

CREATE TABLE group_permissions (
    group_id INTEGER NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES auth_permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, permission_id)
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Copied from the session data on every save so that all sessions of a user can be ended.
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE password_reset_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- SHA-256 of the token; the token itself is only ever in the e-mailed link.
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The user's auth_version when the token was issued: a later password change kills it.
    auth_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

CREATE INDEX password_reset_tokens_user_id ON password_reset_tokens (user_id);

CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY NOT NULL,
    count INTEGER NOT NULL,
    window_ends_at INTEGER NOT NULL
);
