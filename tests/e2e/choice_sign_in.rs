//! Choice-based sign-in (`USER_AUTH`) through the gateway, against the local Cognito stand-in
//! (`tools/local-gateway/src/cognito_standin/choice_sign_in.rs`), which sends its codes to the
//! outbox at `GET /_local/outbox`. The tokens of a code sign-in come from the emulator's SRP flow,
//! which does not check its proof: should the emulator start checking it, these journeys fail
//! at their first code sign-in, and the stand-in needs another way to the emulator's tokens.

use integration_tests::{TestApp, spawn_app, token};
use serde_json::{Value, json};

/// The last sign-in code sent to `to`, read as a developer reads it.
async fn last_code(app: &TestApp, to: &str) -> String {
    let outbox = app
        .send(http::Method::GET, &format!("/_local/outbox?to={to}"), &[], "")
        .await;
    assert_eq!(outbox.status, 200, "{}", outbox.raw);
    outbox.body[0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code sent to {to}: {}", outbox.raw))
        .to_owned()
}

/// Answers the challenge a sign-in answered with (its name and session).
async fn answer(app: &TestApp, username: &str, challenge: &Value, responses: Value) -> integration_tests::TestResponse {
    let name = challenge["challengeName"].as_str().expect("a challenge");
    app.respond_to_challenge(name, &token(challenge, "session"), username, responses)
        .await
}

async fn signed_up_without_password(app: &TestApp, username: &str, email: &str) -> Value {
    let signed_up = app
        .post_json("/auth/sign-up", &json!({"username": username, "email": email}))
        .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.raw);
    signed_up.body
}

#[tokio::test]
async fn a_password_less_sign_up_is_verified_and_signs_in_once_with_its_session() {
    let app = spawn_app().await;
    let signed_up = signed_up_without_password(&app, "nadia", "nadia@example.com").await;
    let session = signed_up["session"].as_str().expect("a sign-up session");

    let verified = app
        .post_json(
            "/auth/verify-account",
            &json!({"username": "nadia", "code": "123456", "session": session}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.raw);
    let sign_in_session = verified.body["session"].as_str().expect("a sign-in session").to_owned();
    assert_ne!(sign_in_session, session);

    // Someone else cannot spend the session.
    let stolen = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "mallory", "session": sign_in_session}),
        )
        .await;
    assert_eq!(
        (stolen.status.as_u16(), stolen.code()),
        (401, "SessionExpired"),
        "{}",
        stolen.raw
    );

    let tokens = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "nadia", "session": sign_in_session}),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.raw);
    let access = token(&tokens.body, "accessToken");
    let me = app.get_with_token("/auth/me", &access).await;
    assert_eq!(
        (me.status.as_u16(), me.body["username"].as_str()),
        (200, Some("nadia")),
        "{}",
        me.raw
    );
    // No password: the user's first factors are the codes alone.
    let methods = app.get_with_token("/auth/me/sign-in-methods", &access).await;
    assert_eq!(methods.body["signInMethods"], json!(["email-otp"]), "{}", methods.raw);

    // Once only.
    let again = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "nadia", "session": sign_in_session}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (401, "SessionExpired"),
        "{}",
        again.raw
    );
    // And the sign-up's own session never signs in.
    let early = app
        .post_json("/auth/sign-in", &json!({"username": "nadia", "session": session}))
        .await;
    assert_eq!(
        (early.status.as_u16(), early.code()),
        (401, "SessionExpired"),
        "{}",
        early.raw
    );

    // No password was set that anyone knows: a guess is refused as any wrong password.
    let guessed = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "nadia", "password": "Guess-Passw0rd"}),
        )
        .await;
    assert_eq!(
        (guessed.status.as_u16(), guessed.code()),
        (401, "InvalidCredentials"),
        "{}",
        guessed.raw
    );
}

#[tokio::test]
async fn an_email_code_signs_in_once_and_a_wrong_one_is_refused() {
    let app = spawn_app().await;
    signed_up_without_password(&app, "omar", "omar@example.com").await;
    let verified = app
        .post_json("/auth/verify-account", &json!({"username": "omar", "code": "123456"}))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.raw);
    assert!(verified.body.get("session").is_none(), "{}", verified.raw);

    let challenge = app
        .post_json("/auth/sign-in", &json!({"username": "omar", "method": "email-otp"}))
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.raw);
    assert_eq!(challenge.body["challengeName"], "EMAIL_OTP");
    let destination = challenge.body["challengeParameters"]["CODE_DELIVERY_DESTINATION"]
        .as_str()
        .expect("a destination");
    assert!(!destination.contains("omar@"), "masked: {destination}");
    let code = last_code(&app, "omar@example.com").await;

    let wrong_code = if code == "000000" { "000001" } else { "000000" };
    let wrong = answer(&app, "omar", &challenge.body, json!({"EMAIL_OTP_CODE": wrong_code})).await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (400, "CodeMismatch"),
        "{}",
        wrong.raw
    );

    let signed_in = answer(&app, "omar", &challenge.body, json!({"EMAIL_OTP_CODE": code})).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.raw);
    let access = token(&signed_in.body, "accessToken");
    assert_eq!(app.get_with_token("/auth/me", &access).await.status, 200);

    // The code and its session are spent.
    let replayed = answer(&app, "omar", &challenge.body, json!({"EMAIL_OTP_CODE": code})).await;
    assert_eq!(
        (replayed.status.as_u16(), replayed.code()),
        (401, "SessionExpired"),
        "{}",
        replayed.raw
    );
}

#[tokio::test]
async fn three_wrong_codes_end_the_session() {
    let app = spawn_app().await;
    signed_up_without_password(&app, "pia", "pia@example.com").await;
    app.post_json("/auth/verify-account", &json!({"username": "pia", "code": "123456"}))
        .await;
    let challenge = app
        .post_json("/auth/sign-in", &json!({"username": "pia", "method": "email-otp"}))
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.raw);
    let code = last_code(&app, "pia@example.com").await;
    let wrong_code = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..3 {
        let wrong = answer(&app, "pia", &challenge.body, json!({"EMAIL_OTP_CODE": wrong_code})).await;
        assert_eq!(
            (wrong.status.as_u16(), wrong.code()),
            (400, "CodeMismatch"),
            "{}",
            wrong.raw
        );
    }
    // Even the right code is too late now: guessing has a ceiling.
    let right = answer(&app, "pia", &challenge.body, json!({"EMAIL_OTP_CODE": code})).await;
    assert_eq!(
        (right.status.as_u16(), right.code()),
        (401, "SessionExpired"),
        "{}",
        right.raw
    );
}

#[tokio::test]
async fn a_user_chooses_a_first_factor_among_their_own() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();

    let choice = app
        .post_json("/auth/sign-in", &json!({"username": demo.username}))
        .await;
    assert_eq!(choice.status, 200, "{}", choice.raw);
    assert_eq!(choice.body["challengeName"], "SELECT_CHALLENGE");
    let available: Vec<&str> = choice.body["availableChallenges"]
        .as_array()
        .expect("availableChallenges")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(available.contains(&"PASSWORD"), "{available:?}");
    assert!(
        !available.contains(&"PASSWORD_SRP"),
        "the API cannot answer SRP: {available:?}"
    );

    let signed_in = answer(
        &app,
        &demo.username,
        &choice.body,
        json!({"ANSWER": "PASSWORD", "PASSWORD": demo.password}),
    )
    .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.raw);
    assert!(signed_in.body["accessToken"].is_string(), "{}", signed_in.raw);

    // The password method without a password asks for it, and a wrong one is refused.
    let asked = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": demo.username, "method": "password"}),
        )
        .await;
    assert_eq!(asked.body["challengeName"], "PASSWORD", "{}", asked.raw);
    let wrong = answer(&app, &demo.username, &asked.body, json!({"PASSWORD": "Wrong-Passw0rd"})).await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (401, "InvalidCredentials"),
        "{}",
        wrong.raw
    );
    // With its password, the password method signs in at once.
    let direct = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": demo.username, "method": "password", "password": demo.password}),
        )
        .await;
    assert_eq!(direct.status, 200, "{}", direct.raw);
    assert!(direct.body["accessToken"].is_string(), "{}", direct.raw);
}

#[tokio::test]
async fn an_unknown_user_is_answered_as_a_known_one_and_never_signs_in() {
    let app = spawn_app().await;
    signed_up_without_password(&app, "quinn", "quinn@example.com").await;
    app.post_json("/auth/verify-account", &json!({"username": "quinn", "code": "123456"}))
        .await;

    let known = app
        .post_json("/auth/sign-in", &json!({"username": "quinn", "method": "email-otp"}))
        .await;
    let unknown = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "nobody-here", "method": "email-otp"}),
        )
        .await;
    assert_eq!(known.status, unknown.status, "{} / {}", known.raw, unknown.raw);
    assert_eq!(known.body["challengeName"], unknown.body["challengeName"]);
    let keys = |body: &Value| -> Vec<String> {
        body["challengeParameters"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(&known.body), keys(&unknown.body));

    // Nothing was sent for the unknown user, and no code opens their session.
    let outbox = app.send(http::Method::GET, "/_local/outbox", &[], "").await;
    let recipients: Vec<&str> = outbox
        .body
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["to"].as_str())
        .collect();
    assert_eq!(recipients, ["quinn@example.com"]);
    let code = last_code(&app, "quinn@example.com").await;
    let borrowed = answer(&app, "nobody-here", &unknown.body, json!({"EMAIL_OTP_CODE": code})).await;
    assert_eq!(
        (borrowed.status.as_u16(), borrowed.code()),
        (400, "CodeMismatch"),
        "{}",
        borrowed.raw
    );

    // Another user's session is not this user's.
    let crossed = answer(&app, "nobody-here", &known.body, json!({"EMAIL_OTP_CODE": code})).await;
    assert_eq!(
        (crossed.status.as_u16(), crossed.code()),
        (401, "SessionExpired"),
        "{}",
        crossed.raw
    );
    // And quinn still can, with their own session.
    let signed_in = answer(&app, "quinn", &known.body, json!({"EMAIL_OTP_CODE": code})).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.raw);
}

#[tokio::test]
async fn a_passkey_sign_in_gets_its_challenge_and_an_unregistered_passkey_is_refused() {
    let app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let challenge = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": demo.username, "method": "passkey"}),
        )
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.raw);
    assert_eq!(challenge.body["challengeName"], "WEB_AUTHN");
    let options = &challenge.body["credentialRequestOptions"];
    assert_eq!(options["rpId"], "localhost", "{options}");
    assert_eq!(options["allowCredentials"], json!([]));
    assert!(
        options["challenge"].as_str().is_some_and(|c| c.len() >= 43),
        "{options}"
    );

    // An unknown user is answered alike, with a challenge of its own.
    let unknown = app
        .post_json(
            "/auth/sign-in",
            &json!({"username": "nobody-here", "method": "passkey"}),
        )
        .await;
    assert_eq!(unknown.body["challengeName"], "WEB_AUTHN", "{}", unknown.raw);
    assert_ne!(
        unknown.body["credentialRequestOptions"]["challenge"],
        options["challenge"]
    );

    let assertion = json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"},
        "clientExtensionResults": {},
    });
    let refused = answer(&app, &demo.username, &challenge.body, json!({"CREDENTIAL": assertion})).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (401, "InvalidCredentials"),
        "{}",
        refused.raw
    );
    let again = answer(&app, &demo.username, &challenge.body, json!({"CREDENTIAL": assertion})).await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (401, "SessionExpired"),
        "{}",
        again.raw
    );
}

#[tokio::test]
async fn the_outbox_answers_only_get_as_the_api_answers_a_wrong_method() {
    let app = spawn_app().await;
    for method in [http::Method::POST, http::Method::DELETE, http::Method::TRACE] {
        let refused = app.send(method.clone(), "/_local/outbox", &[], "").await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (405, "MethodNotAllowed"),
            "{method}"
        );
        assert_eq!(
            refused.headers.get(http::header::ALLOW).map(|v| v.as_bytes()),
            Some(&b"GET"[..])
        );
    }
    let listed = app.send(http::Method::GET, "/_local/outbox", &[], "").await;
    assert_eq!((listed.status.as_u16(), listed.body.clone()), (200, json!([])));
}

#[tokio::test]
async fn an_sms_code_chosen_from_the_users_factors_signs_in() {
    let app = spawn_app().await;
    let signed_up = app
        .post_json(
            "/auth/sign-up",
            &json!({"username": "rosa", "email": "rosa@example.com", "phoneNumber": "+14155550123"}),
        )
        .await;
    assert_eq!(signed_up.status, 201, "{}", signed_up.raw);
    app.post_json("/auth/verify-account", &json!({"username": "rosa", "code": "123456"}))
        .await;

    // No password: the choice is the two codes, and choosing one sends it.
    let choice = app.post_json("/auth/sign-in", &json!({"username": "rosa"})).await;
    assert_eq!(choice.body["challengeName"], "SELECT_CHALLENGE", "{}", choice.raw);
    assert_eq!(choice.body["availableChallenges"], json!(["EMAIL_OTP", "SMS_OTP"]));
    let chosen = answer(&app, "rosa", &choice.body, json!({"ANSWER": "SMS_OTP"})).await;
    assert_eq!(chosen.status, 200, "{}", chosen.raw);
    assert_eq!(chosen.body["challengeName"], "SMS_OTP");
    assert_eq!(
        chosen.body["challengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "SMS"
    );
    let destination = chosen.body["challengeParameters"]["CODE_DELIVERY_DESTINATION"]
        .as_str()
        .expect("a destination");
    assert!(
        destination.ends_with("0123") && !destination.contains("415555"),
        "{destination}"
    );

    let outbox = app
        .send(http::Method::GET, "/_local/outbox?to=%2B14155550123", &[], "")
        .await;
    assert_eq!(outbox.body[0]["channel"], "sms", "{}", outbox.raw);
    let code = outbox.body[0]["code"].as_str().expect("a code").to_owned();
    // The email channel was not used.
    assert_eq!(
        app.send(http::Method::GET, "/_local/outbox?to=rosa@example.com", &[], "")
            .await
            .body,
        json!([])
    );
    let signed_in = answer(&app, "rosa", &chosen.body, json!({"SMS_OTP_CODE": code})).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.raw);
    let methods = app
        .get_with_token("/auth/me/sign-in-methods", &token(&signed_in.body, "accessToken"))
        .await;
    assert_eq!(
        methods.body["signInMethods"],
        json!(["email-otp", "sms-otp"]),
        "{}",
        methods.raw
    );
}
