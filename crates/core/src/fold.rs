//! One folding of text for everything that compares it loosely: search, sort keys, and
//! matching imported books against the list.
//!
//! [`fold`] maps a text to a key such that texts a reader would call "the same words" get the
//! same key:
//!
//! 1. **Compatibility decomposition** (Unicode NFKD): `é` becomes `e` + a combining acute,
//!    ligatures and full-width forms become plain letters (`ﬁ` → `fi`, `Ｄｕｎｅ` → `Dune`).
//! 2. **Full case folding** (Unicode `CaseFolding.txt`, statuses C and F): `ß` → `ss`,
//!    `Σ`/`ς` → `σ`, `İ` → `i` + a combining dot.
//! 3. **Accents removed**: combining marks of the Latin, Greek and Cyrillic diacritic blocks,
//!    Hebrew points and Arabic vowel signs. Marks that change a letter in other scripts (Indic
//!    vowel signs, the Japanese voicing marks of `が`) are kept, so those texts keep meaning.
//! 4. **Letters that do not decompose** are spelled out: `æ` → `ae`, `œ` → `oe`, `ø` → `o`,
//!    `đ`/`ð` → `d`, `ł` → `l`, `þ` → `th`, `ı` → `i`, `ħ` → `h`, `ŧ` → `t`, `ŋ` → `n`.
//! 5. **Punctuation that looks alike** is unified: curly quotes and `ʼ` become `'` and `"`,
//!    Unicode hyphens and dashes become `-`, so `Ender’s` matches `Ender's`.
//! 6. **Invisible characters** (soft hyphen, zero-width space/joiners, direction marks,
//!    variation selectors, BOM) are dropped, and every run of whitespace becomes one space,
//!    with none at either end.
//!
//! Nothing is transliterated between scripts: `Мастер` folds to `мастер`, `三体` stays `三体`.
//! A search folds its query the same way, so every script stays searchable by itself.
//!
//! Invariants (tested): `fold(fold(x)) == fold(x)`; ASCII text folds to its lowercase with
//! whitespace collapsed, without touching the Unicode tables (the fast path).

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// The folded key of `text`; see the module docs for what it does.
pub fn fold(text: &str) -> String {
    let mut out = Folded {
        text: String::with_capacity(text.len()),
        space: false,
    };
    let mut rest = text;
    while !rest.is_empty() {
        // ASCII runs need no Unicode tables; a non-ASCII run is decomposed and folded as a
        // whole. Splitting there is safe: ASCII characters are starters that nothing
        // reorders across, and case folding works character by character.
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        for byte in rest[..ascii].bytes() {
            out.push_ascii(byte);
        }
        rest = &rest[ascii..];
        let other = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii())
            .map_or(rest.len(), |(at, _)| at);
        for c in rest[..other].chars().nfkd().default_case_fold() {
            out.push(c);
        }
        rest = &rest[other..];
    }
    out.text
}

/// The key being built: whitespace is held back until a visible character follows it.
struct Folded {
    text: String,
    /// Whitespace was seen since the last character written.
    space: bool,
}

impl Folded {
    /// Appends one ASCII character: lowercased, whitespace held back. (No ASCII character is
    /// dropped or spelled out, so this is [`Folded::push`] without its look-ups.)
    fn push_ascii(&mut self, byte: u8) {
        if matches!(byte, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r') {
            self.space = true;
            return;
        }
        if self.space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.space = false;
        self.text.push(char::from(byte.to_ascii_lowercase()));
    }

    /// Appends one decomposed, case-folded character, applying steps 3–6.
    fn push(&mut self, c: char) {
        if c.is_whitespace() {
            self.space = true;
            return;
        }
        if is_dropped(c) {
            return;
        }
        if self.space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.space = false;
        match spelled_out(c) {
            Some(letters) => self.text.push_str(letters),
            None => self.text.push(c),
        }
    }
}

/// Accents (combining marks of the diacritic blocks, Hebrew points, Arabic vowel signs) and
/// invisible characters.
fn is_dropped(c: char) -> bool {
    matches!(c,
        // Combining Diacritical Marks, its Extended and Supplement blocks, marks for symbols,
        // half marks.
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        // Cyrillic titlo and other combining signs.
        | '\u{0483}'..='\u{0489}'
        // Hebrew cantillation and vowel points (not the punctuation between them).
        | '\u{0591}'..='\u{05BD}'
        | '\u{05BF}'
        | '\u{05C1}'..='\u{05C2}'
        | '\u{05C4}'..='\u{05C5}'
        | '\u{05C7}'
        // Arabic honorific signs, harakat (vowel signs, shadda, sukun), superscript alef.
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        // Invisible: soft hyphen, zero-width space/non-joiner/joiner, direction marks and
        // embeddings, word joiner and invisible operators, direction isolates, variation
        // selectors, the byte-order mark.
        | '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{E0100}'..='\u{E01EF}'
        | '\u{FEFF}'
    )
}

/// Letters with no decomposition that readers treat as a base letter with a stroke or as two
/// letters, and punctuation that has a plain ASCII look-alike. Only folded (lowercase) forms
/// reach here.
fn spelled_out(c: char) -> Option<&'static str> {
    Some(match c {
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'đ' | 'ð' => "d",
        'ł' => "l",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        'ŧ' => "t",
        'ŋ' => "n",
        'ƀ' => "b",
        'ƚ' => "l",
        'ɨ' => "i",
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{02BC}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_removed() {
        assert_eq!(
            fold("Gödel, Escher, Bach"),
            "godel, escher, bach",
            "typing godel finds Gödel"
        );
        assert_eq!(fold("Émile Zola"), "emile zola", "precomposed accents go");
        assert_eq!(
            fold("E\u{0301}mile"),
            "emile",
            "decomposed accents (e + combining acute) fold the same as precomposed"
        );
        assert_eq!(
            fold("Ñandú, Crème brûlée, Dvořák, Ångström"),
            "nandu, creme brulee, dvorak, angstrom",
            "Latin diacritics of many languages"
        );
        assert_eq!(
            fold("Tiếng Việt"),
            "tieng viet",
            "stacked Vietnamese marks all go"
        );
    }

    #[test]
    fn sharp_s_folds_to_ss() {
        assert_eq!(fold("Straße"), "strasse", "ß is ss");
        assert_eq!(fold("STRASSE"), fold("straße"), "both spellings match");
        assert_eq!(
            fold("GROẞE"),
            "grosse",
            "capital sharp s (U+1E9E) is ss too"
        );
    }

    #[test]
    fn letters_without_decomposition_are_spelled_out() {
        for (text, folded) in [
            ("Æsop", "aesop"),
            ("œuvre", "oeuvre"),
            ("Søren Kierkegaard", "soren kierkegaard"),
            ("Đorđe", "dorde"),
            ("Ðóra", "dora"),
            ("Łódź", "lodz"),
            ("Þórr", "thorr"),
            ("ħobż", "hobz"),
            ("Ŋaaŋ", "naan"),
        ] {
            assert_eq!(fold(text), folded, "{text} folds to plain letters");
        }
    }

    #[test]
    fn turkish_i_forms_all_fold_to_i() {
        let forms = ["ISTANBUL", "İstanbul", "istanbul", "ıstanbul", "İSTANBUL"];
        for form in forms {
            assert_eq!(
                fold(form),
                "istanbul",
                "{form} matches however the i was dotted"
            );
        }
    }

    #[test]
    fn greek_sigma_and_tonos_fold() {
        assert_eq!(
            fold("ΟΔΥΣΣΕΥΣ"),
            fold("Οδυσσεύς"),
            "final sigma, capital sigma and accents all fold alike"
        );
        assert_eq!(fold("Οδυσσεύς"), "οδυσσευσ", "ς folds to σ, tonos goes");
        assert_eq!(fold("ᾈ"), "αι", "ypogegrammeni folds to iota");
    }

    #[test]
    fn other_scripts_keep_their_letters() {
        assert_eq!(
            fold("Мастер и Маргарита"),
            "мастер и маргарита",
            "Cyrillic is case folded, not transliterated"
        );
        assert_eq!(fold("Ёжик"), "ежик", "Cyrillic ё is е with a diaeresis");
        assert_eq!(fold("三体"), "三体", "Chinese is unchanged");
        assert_eq!(
            fold("ノルウェイの森"),
            "ノルウェイの森",
            "Japanese without voicing marks is unchanged"
        );
        assert_eq!(
            fold("ｶﾞﾗｽ"),
            fold("ガラス"),
            "half-width katakana folds like full-width"
        );
        assert_ne!(
            fold("がらす"),
            fold("からす"),
            "Japanese voicing marks are kept: ga and ka are different sounds"
        );
        assert_eq!(
            fold("किताब"),
            "किताब".nfkd().collect::<String>(),
            "Devanagari vowel signs are kept"
        );
        assert_eq!(
            fold("שָׁלוֹם"),
            "שלום",
            "Hebrew points go, as they are optional in writing"
        );
        assert_eq!(
            fold("كِتَاب"),
            "كتاب",
            "Arabic vowel signs go, as they are optional in writing"
        );
    }

    #[test]
    fn non_latin_text_is_searchable_as_a_substring() {
        for (stored, query) in [
            ("三体 (The Three-Body Problem)", "三体"),
            ("한국 문학", "한국"),
            ("ノルウェイの森", "ウェイ"),
            ("Мастер и Маргарита", "МАРГАРИТА"),
            ("Οδυσσεύς", "ΟΔΥΣ"),
        ] {
            assert!(
                fold(stored).contains(&fold(query)),
                "{query:?} finds {stored:?} once both are folded"
            );
        }
    }

    #[test]
    fn compatibility_forms_fold_to_plain_letters() {
        assert_eq!(fold("ﬁnal ﬂight"), "final flight", "ligatures split");
        assert_eq!(fold("Ｄｕｎｅ"), "dune", "full-width Latin is plain Latin");
        assert_eq!(fold("ǅemal"), "dzemal", "the dž digraph letter splits");
    }

    #[test]
    fn quotes_and_dashes_fold_to_ascii() {
        assert_eq!(
            fold("Ender’s Game"),
            fold("Ender's Game"),
            "curly and straight apostrophes match"
        );
        assert_eq!(fold("“Quoted”"), "\"quoted\"", "curly double quotes");
        assert_eq!(
            fold("Gödel, Escher, Bach — an Eternal Golden Braid"),
            "godel, escher, bach - an eternal golden braid",
            "an em dash is a hyphen"
        );
    }

    #[test]
    fn whitespace_collapses_and_invisibles_go() {
        assert_eq!(fold(""), "", "empty stays empty");
        assert_eq!(fold(" \t\n "), "", "only whitespace folds to empty");
        assert_eq!(
            fold("  The \t Left\u{00A0}Hand\u{3000}of  Darkness \n"),
            "the left hand of darkness",
            "runs of any whitespace (NBSP, ideographic space) are one space, none at the ends"
        );
        assert_eq!(
            fold("Ency\u{00AD}clo\u{200B}pedia\u{FEFF}"),
            "encyclopedia",
            "soft hyphens, zero-width spaces and BOMs are invisible, so they do not count"
        );
        assert_eq!(
            fold("I \u{2764}\u{FE0F} books"),
            fold("I \u{2764} books"),
            "an emoji variation selector does not matter"
        );
    }

    #[test]
    fn ascii_fast_path_matches_the_general_path() {
        for byte in 0..128u8 {
            let text = format!("x{c}Y{c}{c}z{c}", c = char::from(byte));
            let (mut fast, mut general) = (
                Folded {
                    text: String::new(),
                    space: false,
                },
                Folded {
                    text: String::new(),
                    space: false,
                },
            );
            for b in text.bytes() {
                fast.push_ascii(b);
            }
            for c in text.chars().nfkd().default_case_fold() {
                general.push(c);
            }
            assert_eq!(
                fast.text, general.text,
                "ASCII {byte:#04x} folds the same on the fast path"
            );
        }
    }

    #[test]
    fn ascii_fast_path_is_plain_lowercase() {
        let text = "The Hitchhiker's Guide to the GALAXY (42) #1";
        assert_eq!(fold(text), text.to_lowercase(), "ASCII folds to lowercase");
    }

    #[test]
    fn fold_is_idempotent_over_every_character() {
        // A key folded again must not change, or a stored key and a folded query drift apart.
        let mut broken = Vec::new();
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let once = fold(&format!("a{c}b"));
            if fold(&once) != once {
                broken.push(c);
            }
        }
        assert!(
            broken.is_empty(),
            "fold(fold(x)) == fold(x) for every character; broken for {} of them, e.g. {:?}",
            broken.len(),
            &broken[..broken.len().min(20)]
        );
    }

    #[test]
    fn mixed_ascii_and_other_text_folds_as_a_whole() {
        // The ASCII fast path splits the text; the result must equal folding it unsplit.
        let text = "Cafe\u{0301} de Flore — Ærø, ΣΟΦΙΑ and 東京";
        let whole: String = text.chars().nfkd().default_case_fold().collect::<String>();
        let mut reference = Folded {
            text: String::new(),
            space: false,
        };
        for c in whole.chars() {
            reference.push(c);
        }
        assert_eq!(
            fold(text),
            reference.text,
            "splitting at ASCII runs gives the same key as folding the whole text"
        );
    }
}
