-- Notes of the example page: each belongs to one user, who alone sees and changes it.

CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX notes_owner_id ON notes (owner_id);
