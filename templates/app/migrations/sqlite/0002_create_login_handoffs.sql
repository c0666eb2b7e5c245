-- One-time links that hand a session created by a login event over to the browser, which
-- cannot receive an HttpOnly cookie over the WebSocket.

CREATE TABLE login_handoffs (
    -- SHA-256 of the token in the link.
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The user's auth_version when the login succeeded.
    auth_version INTEGER NOT NULL,
    -- SHA-256 of the CSRF token of the browser that logged in; only that browser can use the
    -- link, so nobody can log a victim into someone else's account with it.
    binding_hash BLOB NOT NULL,
    next TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
