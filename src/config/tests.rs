use super::*;

fn load_ok(source: &str) -> Config {
    match load(source, "test.toml", Some("myshop")) {
        Ok(config) => config,
        Err(errors) => panic!("{}", errors.render()),
    }
}

fn messages(source: &str) -> Vec<String> {
    let errors = load(source, "test.toml", Some("myshop")).unwrap_err();
    errors
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.message.clone())
        .collect()
}

#[test]
fn default_config_template_gives_defaults() {
    let text = crate::commands::new::render_default_config(
        "myshop",
        true,
        crate::config::Database::Sqlite,
    )
    .unwrap();
    let config = load(&text, "rdauth.toml", None).unwrap();
    assert_eq!(config.app.name, "myshop");
    assert_eq!(config.app.database, Database::Sqlite);
    assert_eq!(config.auth, AuthSettings::default());
    assert!(config.app.example);
    // The example page brings the one permission its delete event needs.
    let keys: Vec<String> = config.permissions.iter().map(Permission::key).collect();
    assert_eq!(keys, ["notes.delete_note"]);
    assert!(config.groups.is_empty());
    assert!(config.pages.is_empty());
}

#[test]
fn default_config_template_lists_every_key() {
    let text = crate::commands::new::render_default_config(
        "myshop",
        true,
        crate::config::Database::Sqlite,
    )
    .unwrap();
    let document: toml_edit::DocumentMut = text.parse().unwrap();
    for key in parse::AUTH_KEYS {
        assert!(document["auth"].get(key).is_some(), "`auth.{key}` missing");
    }
    for key in parse::PAGE_TITLE_KEYS {
        assert!(
            document["auth"]["page_titles"].get(key).is_some(),
            "`auth.page_titles.{key}` missing"
        );
    }
    for key in parse::PAGE_KEYS {
        assert!(
            text.contains(&format!("# {key} = ")),
            "page key `{key}` missing"
        );
    }
}

#[test]
fn empty_file_gives_defaults() {
    let config = load_ok("");
    assert_eq!(config.app.name, "myshop");
    assert_eq!(config.auth, AuthSettings::default());
}

#[test]
fn name_override_wins_over_file() {
    let config = load_ok("[app]\nname = \"other\"\n");
    assert_eq!(config.app.name, "myshop");
}

#[test]
fn missing_name_without_override() {
    let errors = load("[auth]\n", "test.toml", None).unwrap_err();
    assert_eq!(errors.diagnostics.len(), 1);
    assert_eq!(errors.diagnostics[0].message, "missing `app.name`");
    assert_eq!(errors.diagnostics[0].span, None);
}

#[test]
fn issue_example_parses() {
    let config = load_ok(
        r#"
[app]
name = "myshop"
database = "sqlite"

[auth]
login_url = "/sign-in"
post_login_url = "/dashboard"
username_field = "email"
min_password_length = 10

[auth.page_titles]
login = "Sign in to MyShop"

[permissions.blog]
change_post = "Can change post"
delete_post = "Can delete post"

[groups]
editors = ["blog.change_post", "blog.delete_post"]

[pages.billing]
route = "/billing"
title = "Billing"
permission = "blog.change_post"
"#,
    );
    assert_eq!(config.auth.login_url, "/sign-in");
    assert_eq!(config.auth.post_login_url, "/dashboard");
    assert_eq!(config.auth.username_field, UsernameField::Email);
    assert_eq!(config.auth.min_password_length, 10);
    assert_eq!(config.auth.page_titles.login, "Sign in to MyShop");
    assert_eq!(config.auth.page_titles.register, "Create an account");
    // The two declared permissions, then the example page's.
    assert_eq!(config.permissions.len(), 3);
    assert_eq!(config.permissions[0].variant(), "BlogChangePost");
    assert_eq!(config.permissions[2].key(), "notes.delete_note");
    assert_eq!(
        config.groups,
        vec![Group {
            name: "editors".into(),
            permissions: vec!["blog.change_post".into(), "blog.delete_post".into()],
        }]
    );
    assert_eq!(
        config.pages[0].permission.as_deref(),
        Some("blog.change_post")
    );
    assert!(config.pages[0].login_required);
}

#[test]
fn bare_app_has_no_example_permission() {
    let config = load_ok("[app]\nexample = false\n[auth]\nauto_sync = false\n");
    assert!(!config.app.example);
    assert!(!config.auth.auto_sync);
    assert!(config.permissions.is_empty());
}

#[test]
fn example_route_is_taken() {
    let messages = messages("[pages.about]\nroute = \"/notes\"\n");
    assert!(
        messages
            .iter()
            .any(|message| message.contains("app.example")),
        "{messages:?}"
    );
}

#[test]
fn page_defaults_follow_name() {
    let config = load_ok("[pages.order_history]\n[pages.about]\nlogin_required = false\n");
    let page = &config.pages[0];
    assert_eq!(page.name, "order_history");
    assert_eq!(page.route, "/order_history");
    assert_eq!(page.title, "Order History");
    assert!(!page.login_required);
    assert_eq!(page.permission, None);
    assert_eq!(page.login_url, None);
    assert_eq!(config.pages[1].name, "about");
}

#[test]
fn file_order_is_kept() {
    let config = load_ok(
        "[permissions.shop]\nz_last = \"Z\"\na_first = \"A\"\n[permissions.blog]\nedit = \"E\"\n\
         [pages.zeta]\n[pages.alpha]\n",
    );
    let keys: Vec<String> = config.permissions.iter().map(Permission::key).collect();
    assert_eq!(
        keys,
        [
            "shop.z_last",
            "shop.a_first",
            "blog.edit",
            "notes.delete_note"
        ]
    );
    let pages: Vec<&str> = config.pages.iter().map(|page| page.name.as_str()).collect();
    assert_eq!(pages, ["zeta", "alpha"]);
}

#[test]
fn inline_and_dotted_tables_are_read() {
    let config = load_ok(
        "auth.min_password_length = 12\npages.orders = { route = \"/my-orders\", login_required = true }\n",
    );
    assert_eq!(config.auth.min_password_length, 12);
    assert_eq!(config.pages[0].route, "/my-orders");
    assert!(config.pages[0].login_required);
}

#[test]
fn page_at_root_replaces_home() {
    let config = load_ok("[pages.landing]\nroute = \"/\"\n");
    assert!(!config.home_routed());
    assert!(load_ok("").home_routed());
}

#[test]
fn all_errors_are_collected_in_file_order() {
    let found = messages(
        "[auth]\nmin_password_length = 3\nlogin_attempts = 0\n[pages.Bad]\n[pages.ok]\nroute = \"x\"\n",
    );
    assert_eq!(
        found,
        [
            "`auth.min_password_length` is 3, below the minimum of 8",
            "`auth.login_attempts` is 0, below the minimum of 1",
            "invalid page name `Bad`: it does not start with a lowercase letter",
            "invalid `pages.ok.route` `x`: it does not start with `/`",
        ]
    );
}

#[test]
fn integer_bounds_are_inclusive() {
    let config = load_ok(
        "[auth]\nmin_password_length = 1024\nsession_age_seconds = 60\n\
         password_reset_timeout_seconds = 604800\nlogin_attempts = 1000\nlogin_window_seconds = 86400\n",
    );
    assert_eq!(config.auth.min_password_length, 1024);
    assert_eq!(
        messages("[auth]\nsession_age_seconds = 31536001\n"),
        ["`auth.session_age_seconds` is 31536001, above the maximum of 31536000"]
    );
}

#[test]
fn unknown_key_suggests_nearest() {
    let errors = load("[auth]\nmin_pasword_length = 9\n", "test.toml", Some("x")).unwrap_err();
    let diagnostic = &errors.diagnostics[0];
    assert_eq!(diagnostic.message, "unknown key `auth.min_pasword_length`");
    assert_eq!(
        diagnostic.help.as_deref(),
        Some("did you mean `min_password_length`?")
    );
}

#[test]
fn unknown_key_without_match_lists_keys() {
    let errors = load("[pages.a]\ncolor = \"red\"\n", "test.toml", Some("x")).unwrap_err();
    assert_eq!(
        errors.diagnostics[0].help.as_deref(),
        Some("the known keys in `[pages.a]` are `route`, `title`, `login_required`, `permission` and `login_url`")
    );
}

#[test]
fn syntax_error_has_location() {
    let errors = load("[auth\n", "test.toml", Some("x")).unwrap_err();
    let diagnostic = &errors.diagnostics[0];
    assert!(
        diagnostic.message.starts_with("invalid TOML: "),
        "{}",
        diagnostic.message
    );
    assert!(diagnostic.span.is_some());
}

#[test]
fn disabled_pages_free_their_routes() {
    let config = load_ok(
        "[auth]\nregister_enabled = false\npassword_reset_enabled = false\n\
         [pages.register_info]\nroute = \"/register\"\n[pages.reset_info]\nroute = \"/password_reset\"\n",
    );
    assert_eq!(config.pages.len(), 2);
}

#[test]
fn builtin_url_cannot_be_root() {
    assert_eq!(
        messages("[auth]\nlogin_url = \"/\"\n"),
        ["route `/` in `auth.login_url` is the home page"]
    );
}

#[test]
fn redirect_targets_may_share_routes() {
    let config =
        load_ok("[auth]\npost_login_url = \"/login\"\npost_logout_url = \"/static/bye.html\"\n");
    assert_eq!(config.auth.post_login_url, "/login");
}

#[test]
fn builtin_urls_cannot_collide() {
    assert_eq!(
        messages("[auth]\nlogout_url = \"/login\"\n"),
        ["route `/login` in `auth.logout_url` is already used by `auth.login_url`"]
    );
}

#[test]
fn page_login_url_needs_login() {
    assert_eq!(
        messages("[pages.a]\nlogin_url = \"/login\"\n"),
        ["`pages.a.login_url` is set, but the page does not require login"]
    );
    let config = load_ok("[pages.a]\nlogin_required = true\nlogin_url = \"/staff/login\"\n");
    assert_eq!(config.pages[0].login_url.as_deref(), Some("/staff/login"));
}

#[test]
fn group_rules() {
    assert_eq!(
        messages(
            "[permissions.blog]\nedit = \"Can edit\"\n[groups]\n\"\" = []\ntwice = [\"blog.edit\", \"blog.edit\"]\nbad = [\"blog\"]\n"
        ),
        [
            "invalid group name `groups.\"\"`: it is empty",
            "duplicate permission `blog.edit` in `groups.twice`",
            "invalid permission `blog` in `groups.bad`: it is not in `app_label.codename` form",
        ]
    );
}

#[test]
fn permission_identifier_rules() {
    assert_eq!(
        messages("[permissions.Blog]\nedit = \"Can edit\"\n[permissions.shop]\n2x = \"Two\"\nok = \"\"\n"),
        [
            "invalid app label `Blog` in `permissions.Blog`: it does not start with a lowercase letter",
            "invalid codename `2x` in `permissions.shop.2x`: it does not start with a lowercase letter",
            "invalid `permissions.shop.ok`: it is empty",
        ]
    );
}

#[test]
fn quoted_characters_in_titles_are_allowed() {
    let config = load_ok(
        "[auth.page_titles]\nlogin = 'Say \"hi\" \\ {{ x }} </title><script> Ünïcödé ☕'\n",
    );
    assert_eq!(
        config.auth.page_titles.login,
        "Say \"hi\" \\ {{ x }} </title><script> Ünïcödé ☕"
    );
}

#[test]
fn control_characters_in_titles_are_rejected() {
    assert_eq!(
        messages("[auth.page_titles]\nlogin = \"a\\tb\"\n"),
        ["invalid `auth.page_titles.login`: it contains the control character U+0009"]
    );
}
