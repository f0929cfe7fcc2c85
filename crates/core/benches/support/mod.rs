//! What the core's benches share: the printed table (Markdown, columns padded) and how a time
//! is shown. Each bench decides its own columns.

use std::time::Duration;

/// A time in µs below a millisecond, else in ms.
pub fn show(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{:.1} µs", duration.as_secs_f64() * 1e6)
    } else {
        format!("{:.1} ms", duration.as_secs_f64() * 1e3)
    }
}

/// Prints `rows` under `header` as a Markdown table with padded columns.
pub fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let widths: Vec<usize> = (0..N)
        .map(|col| {
            rows.iter()
                .map(|row| row[col].chars().count())
                .chain([header[col].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header.to_vec());
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
