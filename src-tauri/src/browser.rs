//! Opens the sign-in page in the user's own browser (RFC 8252: never an embedded webview).
//!
//! `$BROWSER` wins when set, as on every Unix tool: a `:`-separated list of commands, each
//! either containing `%s` (replaced by the URL) or taking the URL as its last argument; the
//! first that starts is used. Otherwise the OS opener (`xdg-open`/`gio`, `open`, `start`).

use std::process::{Command, Stdio};

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
            match Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
            {
                Ok(_child) => return Ok(()),
                Err(error) => last_error = Some(error),
            }
        }
        if let Some(error) = last_error {
            return Err(BrowserError(error));
        }
    }
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
