//! The example page: notes that each user sees and changes only for themselves.
//!
//! It shows every pattern of the event bridge. `on_load` fills the state; `add` and `delete`
//! change it. All three are guarded like the page (login required); `delete` also needs the
//! `notes.delete_note` permission, checked on the live user. Every query is scoped to the
//! live user's id, never to anything the browser sends about itself. Without JavaScript the
//! same actions work as HTML forms.

use axum::extract::State as AppStateExtractor;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::context;
use minijinja::value::{Serde, Value as TemplateValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::AppState;
use crate::auth::guards::{self, Access};
use crate::auth::redirect::see_other;
use crate::bridge::{new_state, parse_payload, state_json, EventContext, EventError, EventResult};
use crate::bridge::{HandlerFuture, PageState};
use crate::db::Pool;
use crate::error::AppResult;
use crate::messages::{self, Level};
use crate::pages::{PageSpec, Template};
use crate::permissions::Permission;
use crate::views::PageContext;

pub const PAGE: PageSpec = PageSpec {
    name: "notes",
    route: "/notes",
    title: "Notes",
    login_required: true,
    permission: None,
    login_url: None,
    new_state: new_state::<State>,
};

pub const TEMPLATE: Template = (
    "pages/notes.html",
    include_str!("../../templates/pages/notes.html"),
);

/// Maximum length of a note title, in characters.
const MAX_TITLE_LENGTH: usize = 200;
/// Session key of the title last added, which page requests and events both read and write.
const LAST_ADDED_KEY: &str = "notes.last_added";

/// A note as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Note {
    pub id: i64,
    pub title: String,
}

/// Returns the notes of `owner_id`, newest first.
async fn notes_of(pool: &Pool, owner_id: i64) -> sqlx::Result<Vec<Note>> {
    sqlx::query_as("SELECT id, title FROM notes WHERE owner_id = $1 ORDER BY id DESC")
        .bind(owner_id)
        .fetch_all(pool)
        .await
}

/// Checks and trims a new note's title.
fn clean_title(title: &str) -> Result<String, String> {
    let title = title.trim();
    if title.is_empty() {
        return Err("Write something first.".into());
    }
    if title.chars().count() > MAX_TITLE_LENGTH {
        return Err(format!("A note has at most {MAX_TITLE_LENGTH} characters."));
    }
    Ok(title.to_owned())
}

async fn insert_note(pool: &Pool, owner_id: i64, title: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO notes (owner_id, title, created_at) VALUES ($1, $2, $3)")
        .bind(owner_id)
        .bind(title)
        .bind(crate::now())
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes a note of `owner_id`; returns whether one was deleted. Another user's note id
/// matches nothing.
async fn delete_note(pool: &Pool, owner_id: i64, id: i64) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM notes WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// The page's routes: the page, and the HTML form fallbacks of its events.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE.route, get(show).post(add_form))
        .route("/notes/delete", post(delete_form))
}

/// Renders the page with the user's notes, so it works before and without the socket.
pub async fn show(
    AppStateExtractor(state): AppStateExtractor<AppState>,
    page: PageContext,
    uri: Uri,
) -> AppResult<Response> {
    let user = match guards::signed_in(&page.user, PAGE.access(), &uri, PAGE.login_url) {
        Ok(user) => user,
        Err(denied) => return Ok(denied.into_response()),
    };
    let notes = notes_of(&state.pool, user.user.id).await?;
    let can_delete = user.has_perm(Permission::NotesDeleteNote);
    let last_added: Option<String> = page.session.get(LAST_ADDED_KEY).await?;
    let context = context! {
        title => PAGE.title,
        bridge_state => PAGE.name,
        notes => TemplateValue::from(Serde(notes)),
        can_delete => can_delete,
        last_added => last_added.unwrap_or_default(),
    };
    Ok(page.render(TEMPLATE.0, context).await?.into_response())
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    title: String,
}

/// Adds a note from the HTML form.
async fn add_form(
    AppStateExtractor(state): AppStateExtractor<AppState>,
    page: PageContext,
    uri: Uri,
    Form(form): Form<AddForm>,
) -> AppResult<Response> {
    let user = match guards::signed_in(&page.user, PAGE.access(), &uri, PAGE.login_url) {
        Ok(user) => user,
        Err(denied) => return Ok(denied.into_response()),
    };
    match clean_title(&form.title) {
        Ok(title) => {
            insert_note(&state.pool, user.user.id, &title).await?;
            page.session.insert(LAST_ADDED_KEY, title).await?;
        }
        Err(message) => messages::add(&page.session, Level::Error, message).await?,
    }
    Ok(see_other(PAGE.route))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    id: i64,
}

/// Deletes a note from the HTML form; needs `notes.delete_note`.
async fn delete_form(
    AppStateExtractor(state): AppStateExtractor<AppState>,
    page: PageContext,
    uri: Uri,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let access = Access::Permission(Permission::NotesDeleteNote);
    let user = match guards::signed_in(&page.user, access, &uri, PAGE.login_url) {
        Ok(user) => user,
        Err(denied) => return Ok(denied.into_response()),
    };
    delete_note(&state.pool, user.user.id, form.id).await?;
    Ok(see_other(PAGE.route))
}

/// The page state the browser renders.
#[derive(Debug, Default, Serialize)]
pub struct State {
    pub items: Vec<Note>,
    /// Shows the delete buttons; the server checks the permission again on every delete.
    pub can_delete: bool,
    /// The title last added in this session, from a page request or an event.
    pub last_added: String,
}

#[derive(Deserialize)]
struct AddPayload {
    title: String,
}

#[derive(Deserialize)]
struct DeletePayload {
    id: i64,
}

impl State {
    /// Loads the live user's notes.
    async fn on_load(&mut self, ctx: &mut EventContext) -> EventResult {
        let user = ctx.user()?;
        self.items = notes_of(ctx.pool(), user.user.id).await?;
        self.can_delete = user.has_perm(Permission::NotesDeleteNote);
        let last_added: Option<String> = ctx.session().get(LAST_ADDED_KEY).await?;
        self.last_added = last_added.unwrap_or_default();
        Ok(())
    }

    /// Adds a note for the live user: `{"title": "milk"}`.
    async fn add(&mut self, ctx: &mut EventContext, payload: Value) -> EventResult {
        let AddPayload { title } = parse_payload(payload)?;
        let title = clean_title(&title).map_err(EventError::InvalidPayload)?;
        let owner_id = ctx.user()?.user.id;
        insert_note(ctx.pool(), owner_id, &title).await?;
        ctx.session().insert(LAST_ADDED_KEY, &title).await?;
        self.items = notes_of(ctx.pool(), owner_id).await?;
        self.last_added = title;
        Ok(())
    }

    /// Deletes one of the live user's notes: `{"id": 3}`.
    async fn delete(&mut self, ctx: &mut EventContext, payload: Value) -> EventResult {
        let DeletePayload { id } = parse_payload(payload)?;
        let owner_id = ctx.user()?.user.id;
        if !delete_note(ctx.pool(), owner_id, id).await? {
            ctx.message(Level::Warning, "That note does not exist.");
        }
        self.items = notes_of(ctx.pool(), owner_id).await?;
        Ok(())
    }
}

impl PageState for State {
    fn dispatch<'a>(
        &'a mut self,
        ctx: &'a mut EventContext,
        handler: &'a str,
        payload: Value,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            // Every event of this page is guarded like the page itself.
            ctx.require(PAGE.access(), PAGE.login_url)?;
            match handler {
                "on_load" => self.on_load(ctx).await,
                "add" => self.add(ctx, payload).await,
                "delete" => {
                    let access = Access::Permission(Permission::NotesDeleteNote);
                    ctx.require(access, PAGE.login_url)?;
                    self.delete(ctx, payload).await
                }
                _ => Err(EventError::UnknownEvent),
            }
        })
    }

    fn to_json(&self) -> Value {
        state_json(self)
    }
}
