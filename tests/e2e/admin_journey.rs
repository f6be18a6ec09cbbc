//! User administration end to end: an administrator creates a user, puts them in groups and a
//! team, and the user's next sign-in carries both; administrators cannot lock themselves out.

use http::Method;
use integration_tests::spawn_app;
use serde_json::json;

#[tokio::test]
async fn an_admin_creates_a_user_and_grants_a_group_and_a_team() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    let created = app
        .call(
            Method::POST,
            "/admin/users",
            &admin,
            Some(&json!({"username": "dora", "email": "dora@example.com", "temporaryPassword": "Temp-Passw0rd!", "groups": ["member"], "team": "blue"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["username"], "dora");
    assert_eq!(created.body["status"], "FORCE_CHANGE_PASSWORD");
    let sub = created.body["sub"].as_str().expect("sub").to_owned();

    app.set_permanent_password("dora", "Dora-Passw0rd!").await;
    let dora = app.sign_in("dora", "Dora-Passw0rd!").await["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = app.get_with_token("/auth/me", &dora).await;
    assert_eq!(me.status, 200, "{}", me.raw);
    assert_eq!(me.body["groups"], json!(["member"]));
    assert_eq!(me.body["attributes"]["custom:team"], "blue");
    let refused = app.get_with_token("/admin/users", &dora).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (403, "Forbidden"),
        "{}",
        refused.raw
    );

    let added = app
        .call(Method::PUT, "/admin/users/dora/groups/admin", &admin, None)
        .await;
    assert_eq!(added.status, 204, "{}", added.raw);
    let again = app
        .call(Method::PUT, "/admin/users/dora/groups/admin", &admin, None)
        .await;
    assert_eq!(again.status, 204, "adding a member again is fine: {}", again.raw);
    let team = app
        .call(
            Method::PUT,
            "/admin/users/dora/team",
            &admin,
            Some(&json!({"team": "red"})),
        )
        .await;
    assert_eq!(
        (team.status.as_u16(), team.body.clone()),
        (200, json!({"username": "dora", "team": "red"}))
    );

    let read = app.get_with_token("/admin/users/dora", &admin).await;
    assert_eq!(read.status, 200, "{}", read.raw);
    assert_eq!(read.body["sub"], sub.as_str());
    assert_eq!(read.body["team"], "red");
    let mut groups: Vec<String> = serde_json::from_value(read.body["groups"].clone()).expect("groups");
    groups.sort();
    assert_eq!(groups, ["admin", "member"]);

    // The next sign-in, at once (the changes answered once a new sign-in passes), carries
    // the new group: the admin check flips from 403 to 200.
    let dora = app.sign_in("dora", "Dora-Passw0rd!").await["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let listed = app.get_with_token("/admin/users", &dora).await;
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let me = app.get_with_token("/auth/me", &dora).await;
    assert_eq!(me.body["attributes"]["custom:team"], "red");

    let cleared = app
        .call(
            Method::PUT,
            "/admin/users/dora/team",
            &admin,
            Some(&json!({"team": null})),
        )
        .await;
    assert_eq!(
        (cleared.status.as_u16(), cleared.body["team"].clone()),
        (200, json!(null))
    );
    let removed = app
        .call(Method::DELETE, "/admin/users/dora/groups/member", &admin, None)
        .await;
    assert_eq!(removed.status, 204, "{}", removed.raw);
    let read = app.get_with_token("/admin/users/dora", &admin).await;
    assert_eq!(
        (read.body["groups"].clone(), read.body["team"].clone()),
        (json!(["admin"]), json!(null))
    );
    app.stop().await;
}

#[tokio::test]
async fn administrators_cannot_lock_themselves_out_and_unknown_names_are_404() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let admin = app.admin_token().await;
    let own = demo.username.as_str();
    for (method, path) in [
        (Method::POST, format!("/admin/users/{own}/disable")),
        (Method::POST, format!("/admin/users/{own}/sign-out")),
        (Method::DELETE, format!("/admin/users/{own}/groups/admin")),
    ] {
        let refused = app.call(method.clone(), &path, &admin, None).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (409, "SelfLockout"),
            "{method} {path}: {}",
            refused.raw
        );
    }
    // Still an administrator.
    assert_eq!(app.get_with_token("/admin/users", &admin).await.status, 200);

    let ghost = app.get_with_token("/admin/users/ghost", &admin).await;
    assert_eq!((ghost.status.as_u16(), ghost.code()), (404, "UserNotFound"));
    let group = app
        .call(Method::PUT, &format!("/admin/users/{own}/groups/nope"), &admin, None)
        .await;
    assert_eq!(
        (group.status.as_u16(), group.code()),
        (404, "GroupNotFound"),
        "{}",
        group.raw
    );
    let bad_team = app
        .call(
            Method::PUT,
            &format!("/admin/users/{own}/team"),
            &admin,
            Some(&json!({"team": "a/b"})),
        )
        .await;
    assert_eq!((bad_team.status.as_u16(), bad_team.code()), (400, "ValidationFailed"));
    let taken = app
        .call(
            Method::POST,
            "/admin/users",
            &admin,
            Some(&json!({"username": own, "email": "x@example.com"})),
        )
        .await;
    assert_eq!(
        (taken.status.as_u16(), taken.code()),
        (409, "UsernameExists"),
        "{}",
        taken.raw
    );

    // Disable and enable another user: their sign-in stops, then works again.
    let made = app
        .call(
            Method::POST,
            "/admin/users",
            &admin,
            Some(&json!({"username": "eve", "email": "eve@example.com", "temporaryPassword": "Temp-Passw0rd!"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.raw);
    app.set_permanent_password("eve", "Eve-Passw0rd!1").await;
    app.sign_in("eve", "Eve-Passw0rd!1").await;
    assert_eq!(
        app.call(Method::POST, "/admin/users/eve/disable", &admin, None)
            .await
            .status,
        204
    );
    let disabled = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "eve", "password": "Eve-Passw0rd!1"}),
        )
        .await;
    assert_eq!(disabled.status.as_u16() / 100, 4, "{}", disabled.raw);
    assert_eq!(
        app.call(Method::POST, "/admin/users/eve/enable", &admin, None)
            .await
            .status,
        204
    );
    app.sign_in("eve", "Eve-Passw0rd!1").await;
    assert_eq!(
        app.call(Method::POST, "/admin/users/eve/sign-out", &admin, None)
            .await
            .status,
        204
    );
    app.stop().await;
}
