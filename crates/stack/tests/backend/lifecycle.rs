//! A stack of its own: PostgREST can be stopped and started (fault tests need that), and
//! dropping the stack leaves no process behind.

use bookwish_stack::{process_alive, Stack, StackOptions, ALICE};
use reqwest::StatusCode;

#[tokio::test]
async fn postgrest_restarts_and_drop_leaves_no_process() {
    let stack = Stack::start(StackOptions::default())
        .await
        .expect("a private stack starts");
    let root = stack.root().to_owned();
    let tokens = stack
        .login(ALICE.username, ALICE.password)
        .await
        .expect("alice signs in");
    let books = |s: &Stack| {
        let url = format!("{}/books", s.rest_url());
        let token = tokens.access_token.clone();
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
        }
    };
    assert_eq!(
        books(&stack).await.expect("served").status(),
        StatusCode::OK,
        "PostgREST serves"
    );

    stack.stop_postgrest().await.expect("PostgREST stops");
    assert!(
        books(&stack).await.is_err(),
        "with PostgREST stopped a request cannot connect"
    );
    stack
        .start_postgrest()
        .await
        .expect("PostgREST starts again");
    assert_eq!(
        books(&stack).await.expect("served again").status(),
        StatusCode::OK,
        "PostgREST serves again on the same port, and the token is still valid"
    );

    let pids: Vec<(u32, &str)> = [("postgrest.pid", "postgrest"), ("idp.pid", "server.mjs")]
        .iter()
        .map(|(file, needle)| {
            let pid = std::fs::read_to_string(root.join(file))
                .expect("pid file")
                .trim()
                .parse()
                .expect("pid");
            (pid, *needle)
        })
        .collect();
    let postmaster: u32 = std::fs::read_to_string(root.join("pg/data/postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .expect("pid line")
        .parse()
        .expect("pid");
    drop(stack);
    for (pid, needle) in pids {
        assert!(
            !process_alive(pid, needle),
            "{needle} ({pid}) must be gone after drop"
        );
    }
    assert!(
        !process_alive(postmaster, "postgres"),
        "PostgreSQL must be stopped after drop"
    );
    assert!(!root.exists(), "the temporary stack directory is removed");
}
