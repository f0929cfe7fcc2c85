//! Numbers as the UI writes them.

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

/// "1 book", "2,345 books".
pub fn books(n: usize) -> String {
    format!("{} {}", grouped(n), if n == 1 { "book" } else { "books" })
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
    }
}
