//! Opens the sign-in page in the user's own browser (RFC 8252: never an embedded webview).
//!
//! `$BROWSER` wins when set, as on every Unix tool: a `:`-separated list of commands, each
//! either containing `%s` (replaced by the URL) or taking the URL as its last argument; the
//! first that starts is used. Otherwise the OS opener (`xdg-open`/`gio`, `open`, `start`).

use std::process::{Command, Stdio};

use crate::webview;

/// Why the browser could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("could not open a web browser: {0}")]
pub struct BrowserError(#[source] std::io::Error);

/// The argv lists `$BROWSER` asks for, in order of preference.
pub fn browser_commands(browser_var: &str, url: &str) -> Vec<Vec<String>> {
    browser_var
        .split(':')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let mut argv: Vec<String> = entry
                .split_whitespace()
                .map(|word| word.replace("%s", url))
                .collect();
            if !entry.contains("%s") {
                argv.push(url.to_owned());
            }
            argv
        })
        .collect()
}

/// Opens `url` with `$BROWSER` or the OS opener; never waits for the browser to exit.
pub fn open(url: &str) -> Result<(), BrowserError> {
    if let Some(browser) = std::env::var_os("BROWSER").filter(|v| !v.is_empty()) {
        let mut last_error = None;
        for argv in browser_commands(&browser.to_string_lossy(), url) {
            let Some((program, args)) = argv.split_first() else {
                continue;
            };
            match detached(webview::users_environment(&mut Command::new(program)).args(args))
                .spawn()
            {
                Ok(mut child) => {
                    // Reaped when it exits, so it leaves no zombie behind.
                    std::thread::spawn(move || child.wait());
                    return Ok(());
                }
                Err(error) => last_error = Some(error),
            }
        }
        if let Some(error) = last_error {
            return Err(BrowserError(error));
        }
    }
    os_opener(url)
}

/// `command` set up to outlive the app: no standard streams from it, and a process group of
/// its own, so a Ctrl-C meant for an app started from a terminal does not reach the browser.
fn detached(command: &mut Command) -> &mut Command {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
}

/// Opens `url` with the OS opener, detached. On Linux each of the openers `open` knows is
/// started in turn, in the user's environment (`webview::users_environment`), until one
/// starts and has not failed within `OPENER_CHECK`: the first that is missing or fails
/// (`xdg-open` with no handler) gives way to the next, as in `open::that_detached`.
fn os_opener(url: &str) -> Result<(), BrowserError> {
    #[cfg(target_os = "linux")]
    {
        const OPENER_CHECK: std::time::Duration = std::time::Duration::from_millis(250);
        let mut last_error = std::io::Error::new(std::io::ErrorKind::NotFound, "no OS opener");
        for mut command in open::commands(url) {
            let started = detached(webview::users_environment(&mut command)).spawn();
            let mut child = match started {
                Ok(child) => child,
                Err(error) => {
                    last_error = error;
                    continue;
                }
            };
            // Waited for on a thread of its own, which reaps it whenever it exits.
            let (exited, exit) = std::sync::mpsc::channel();
            std::thread::spawn(move || exited.send(child.wait()));
            match exit.recv_timeout(OPENER_CHECK) {
                Ok(Ok(status)) if status.success() => return Ok(()),
                Ok(Ok(status)) => {
                    last_error = std::io::Error::other(format!(
                        "{:?} failed: {status}",
                        command.get_program()
                    ));
                }
                Ok(Err(error)) => return Err(BrowserError(error)),
                // Still running (it may wait for the browser): handed over.
                Err(_) => return Ok(()),
            }
        }
        Err(BrowserError(last_error))
    }
    #[cfg(not(target_os = "linux"))]
    open::that_detached(url).map_err(BrowserError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_appended_unless_the_command_places_it() {
        let url = "http://127.0.0.1/oauth/authorize?x=1";
        assert_eq!(
            browser_commands("firefox --new-window:lynx %s", url),
            vec![
                vec![
                    "firefox".to_owned(),
                    "--new-window".to_owned(),
                    url.to_owned()
                ],
                vec!["lynx".to_owned(), url.to_owned()],
            ],
            "each $BROWSER entry is tried in order, with the URL appended or substituted"
        );
    }

    #[test]
    fn blank_entries_are_skipped() {
        assert!(
            browser_commands(" : ", "u").is_empty(),
            "a blank $BROWSER means: use the OS opener"
        );
    }
}
