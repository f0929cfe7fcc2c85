//! Numbers and lists as the UI writes them.

/// `n` with thousands separated by commas: "10,000".
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the word that goes with it: `counted(2, "conflict", "conflicts")` is
/// "2 conflicts", `counted(1, …)` "1 conflict".
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", grouped(n), if n == 1 { one } else { many })
}

/// "1 book", "2,345 books".
pub fn books(n: usize) -> String {
    counted(n, "book", "books")
}

/// A count from the IPC types (`u32`) as a `usize`, saturating on targets where it cannot fit.
pub fn size(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Items joined as a sentence says them: "Title", "Title and Rating",
/// "Title, Rating and Notes"; empty for none.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_naturally() {
        assert_eq!(books(0), "0 books", "zero is plural");
        assert_eq!(books(1), "1 book", "one is singular");
        assert_eq!(books(10_000), "10,000 books", "thousands are grouped");
        assert_eq!(grouped(999), "999", "no separator below a thousand");
        assert_eq!(grouped(1_234_567), "1,234,567", "millions are grouped");
        assert_eq!(
            counted(1, "conflict", "conflicts"),
            "1 conflict",
            "any noun is singular for one"
        );
        assert_eq!(size(7), 7, "a u32 count keeps its value");
    }

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(and_list::<&str>(&[]), "", "nothing to list says nothing");
        assert_eq!(and_list(&["Title"]), "Title", "one item stands alone");
        assert_eq!(
            and_list(&["Title", "Rating"]),
            "Title and Rating",
            "two items are joined by 'and'"
        );
        assert_eq!(
            and_list(&["Title", "Rating", "Notes"]),
            "Title, Rating and Notes",
            "commas until the last 'and'"
        );
    }
}
