//! amparo-match: find the same person across spellings, scripts and agencies.
//! Pure: no database, no async. Names are folded, Hebrew/Yiddish script is
//! transliterated, given names are compared through equivalence groups written
//! for this community (see `given_names.rs`), family names by Daitch-Mokotoff
//! Soundex codes and Jaro-Winkler similarity on a spelling skeleton.
#![forbid(unsafe_code)]

mod given_names;
pub mod link;
pub mod pprl;
mod translit;

pub use translit::hebrew_to_latin;

use rphonetic::DaitchMokotoffSoundex;
use std::collections::BTreeSet;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// Lower case, accents removed, Hebrew transliterated, punctuation to spaces.
pub fn fold(text: &str) -> String {
    let latin = hebrew_to_latin(text);
    let mut out = String::with_capacity(latin.len());
    let mut space = true;
    for c in latin.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_string()
}

/// Systematic spelling differences between English, Spanish, French and Yiddish
/// romanisations reduced to one form: sch/sh/ch, tz/ts/z, w/v, ph/f, ck/k,
/// doubled letters, y/i/j at the start, final -e/-a/-ah.
pub fn skeleton(word: &str) -> String {
    let mut w = fold(word).replace(' ', "");
    for (from, to) in [
        ("sch", "sh"),
        ("tsch", "ch"),
        ("tz", "z"),
        ("ts", "z"),
        ("ph", "f"),
        ("ck", "k"),
        ("kh", "h"),
        ("ch", "h"),
        ("j", "h"),
        ("w", "v"),
        ("qu", "k"),
        ("q", "k"),
        ("c", "k"),
        ("y", "i"),
        ("ei", "ai"),
        ("ey", "ai"),
        ("ou", "u"),
        ("oo", "u"),
    ] {
        w = w.replace(from, to);
    }
    // Doubled letters.
    let mut out = String::with_capacity(w.len());
    let mut last = None;
    for c in w.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    for suffix in ["ah", "a", "e"] {
        if out.len() > 3 && out.ends_with(suffix) {
            out.truncate(out.len() - suffix.len());
            break;
        }
    }
    out
}

fn dm() -> &'static DaitchMokotoffSoundex {
    static DM: OnceLock<DaitchMokotoffSoundex> = OnceLock::new();
    DM.get_or_init(DaitchMokotoffSoundex::default)
}

fn beider_morse() -> &'static rphonetic::BeiderMorse<'static> {
    static RULES: OnceLock<rphonetic::ConfigFiles> = OnceLock::new();
    static BM: OnceLock<rphonetic::BeiderMorse<'static>> = OnceLock::new();
    BM.get_or_init(|| {
        // The rule files ship inside the binary (rphonetic's `embedded_bm`): the
        // Ashkenazi set, approximate rules, so that Yiddish, German, Polish, Russian
        // and Spanish spellings of one name meet.
        rphonetic::BeiderMorseBuilder::new(RULES.get_or_init(rphonetic::ConfigFiles::default))
            .name_type(rphonetic::NameType::Ashkenazi)
            .rule_type(rphonetic::RuleType::Approx)
            .build()
    })
}

/// Beider-Morse phonetic codes of a word (Ashkenazi rules, approximate): every
/// alternative the rules allow. Empty for a word without Latin letters after folding.
pub fn bm_codes(word: &str) -> BTreeSet<String> {
    let f = fold(word).replace(' ', "");
    if f.is_empty() || !f.chars().any(|c| c.is_ascii_alphabetic()) {
        return BTreeSet::new();
    }
    // Very long inputs make the rule engine branch without end: a name is short.
    let f: String = f.chars().take(24).collect();
    use rphonetic::Encoder;
    beider_morse()
        .encode(&f)
        .split(['|', '-', '(', ')'])
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// All Daitch-Mokotoff codes of a word (branching on ambiguous letters).
pub fn dm_codes(word: &str) -> BTreeSet<String> {
    let f = fold(word).replace(' ', "");
    if f.is_empty() || !f.chars().any(|c| c.is_ascii_alphabetic()) {
        return BTreeSet::new();
    }
    let mut codes: BTreeSet<String> = dm().inner_soundex(&f, true).into_iter().collect();
    // A Spanish j inside a word is the Yiddish ch/kh ("Najman" Nachman, "Nejama"
    // Nechama, "Baruj" Baruch): its codes count too. A first J stays as the rules read
    // it (English John, German Jakob).
    if f.get(1..).is_some_and(|rest| rest.contains('j')) {
        let spanish = format!("{}{}", &f[..1], f[1..].replace('j', "ch"));
        codes.extend(dm().inner_soundex(&spanish, true));
    }
    codes
}

/// How alike two single words are, 0 to 1, and by what rule.
pub fn word_similarity(a: &str, b: &str) -> (f64, &'static str) {
    let (fa, fb) = (fold(a), fold(b));
    if fa.is_empty() || fb.is_empty() {
        return (0.0, "missing");
    }
    if fa == fb {
        return (1.0, "same");
    }
    let (sa, sb) = (skeleton(a), skeleton(b));
    if sa == sb {
        return (0.97, "same spelling skeleton");
    }
    let jw = strsim::jaro_winkler(&sa, &sb);
    let da = dm_codes(a);
    let db = dm_codes(b);
    if !da.is_disjoint(&db) {
        return (jw.max(0.9), "same Daitch-Mokotoff code");
    }
    (jw, "Jaro-Winkler")
}

/// Given names: the same equivalence group (Jacob, Jacobo, Yaakov, Yankel, יעקב)
/// counts as the same name; otherwise spelling similarity.
pub fn given_similarity(a: &str, b: &str) -> (f64, &'static str) {
    if given_names::same_group(given_names::groups_of(a), given_names::groups_of(b)) {
        return (
            if fold(a) == fold(b) { 1.0 } else { 0.98 },
            "equivalent given names",
        );
    }
    word_similarity(a, b)
}

/// Whether a word is a given name the equivalence table knows ("José", "Harry"): a
/// whole name's second word that is one belongs to a two-word given name.
pub fn known_given_name(word: &str) -> bool {
    !given_names::groups_of(word).is_empty()
}

/// A person's name as parts.
#[derive(Debug, Clone, Default)]
pub struct NameParts {
    pub given: String,
    pub family: String,
}

/// The outcome of comparing two names, with its reasons.
#[derive(Debug, Clone)]
pub struct NameComparison {
    pub score: f64,
    pub given: (f64, &'static str),
    pub family: (f64, &'static str),
    pub swapped: bool,
}

fn best_family(a: &str, b: &str) -> (f64, &'static str) {
    // Spanish double surnames: either part may be the one recorded.
    let mut best = word_similarity(a, b);
    for pa in fold(a).split(' ') {
        for pb in fold(b).split(' ') {
            let s = word_similarity(pa, pb);
            if s.0 > best.0 {
                best = (s.0 * 0.98, s.1);
            }
        }
    }
    best
}

/// Compare two names, also with given and family swapped; score is the weaker of
/// the two parts (both must agree), 0 when either is missing.
pub fn compare_names(a: &NameParts, b: &NameParts) -> NameComparison {
    let direct = (
        given_similarity(&a.given, &b.given),
        best_family(&a.family, &b.family),
    );
    // Crossed over, each side compared the same way, so that the score is symmetric.
    let swapped = (
        best_family(&a.given, &b.family),
        best_family(&a.family, &b.given),
    );
    let score = |(g, f): ((f64, &str), (f64, &str))| g.0.min(f.0);
    if score(swapped) > score(direct) + 0.05 {
        NameComparison {
            score: score(swapped) * 0.97,
            given: swapped.0,
            family: swapped.1,
            swapped: true,
        }
    } else {
        NameComparison {
            score: score(direct),
            given: direct.0,
            family: direct.1,
            swapped: false,
        }
    }
}

/// Search keys that stay the same across spellings and scripts: the word's
/// Daitch-Mokotoff codes and, for a given name, its equivalence group. A stored
/// name and a typed query meet when they share one.
pub fn variant_keys(word: &str) -> Vec<String> {
    let mut keys: Vec<String> = dm_codes(word)
        .into_iter()
        .map(|c| format!("~{c}"))
        .collect();
    for g in given_names::groups_of(word) {
        keys.push(format!("#{g}"));
    }
    keys
}

/// The score at or above which two names are taken to be the same person's.
pub const LIKELY_SAME: f64 = 0.85;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beider_morse_meets_spellings_of_one_name() {
        let a = bm_codes("Weingarten");
        let b = bm_codes("Vaingarten");
        assert!(a.iter().any(|c| b.contains(c)), "{a:?} {b:?}");
        let c = bm_codes("Rosenberg");
        assert!(!a.iter().any(|x| c.contains(x)), "{a:?} {c:?}");
        assert!(bm_codes("").is_empty());
        // Hebrew script is transliterated first, then coded like any spelling.
        let hebrew = bm_codes("ווינגארטן");
        assert!(hebrew.iter().any(|c| a.contains(c)), "{hebrew:?} {a:?}");
        let (s1, s2) = (bm_codes("Schwartz"), bm_codes("Szwarc"));
        assert!(s1.iter().any(|c| s2.contains(c)), "{s1:?} {s2:?}");
    }

    fn n(g: &str, f: &str) -> NameParts {
        NameParts {
            given: g.into(),
            family: f.into(),
        }
    }

    #[test]
    fn the_same_child_across_spellings() {
        let forms = [
            n("Jacobo", "Vaingarten"),
            n("Yankel", "Weingarten"),
            n("Yaacov", "Weingarten"),
            n("Yaakov", "Weingarten"),
            n("יעקב", "ווינגארטן"),
        ];
        for a in &forms {
            for b in &forms {
                let c = compare_names(a, b);
                assert!(c.score >= LIKELY_SAME, "{a:?} vs {b:?}: {c:?}");
            }
        }
    }

    #[test]
    fn different_people_do_not_match() {
        let c = compare_names(&n("Jacobo", "Vaingarten"), &n("Moshe", "Vaingarten"));
        assert!(c.score < LIKELY_SAME, "{c:?}");
        let c = compare_names(&n("Jacobo", "Vaingarten"), &n("Jacobo", "Rosenberg"));
        assert!(c.score < LIKELY_SAME, "{c:?}");
        let c = compare_names(&n("Chana", "Klein"), &n("Sara", "Gross"));
        assert!(c.score < 0.6, "{c:?}");
    }

    #[test]
    fn names_across_languages() {
        for (a, b) in [
            ("Hannah", "Ana"),
            ("Chana", "Hannah"),
            ("Moses", "Moisés"),
            ("Moshe", "Moses"),
        ] {
            assert!(given_similarity(a, b).0 >= 0.95, "{a} {b}");
        }
        let c = compare_names(&n("Vaingarten", "Jacobo"), &n("Yaakov", "Weingarten"));
        assert!(c.score >= LIKELY_SAME && c.swapped, "{c:?}");
        let c = compare_names(&n("Ana", "García López"), &n("Hannah", "Lopez"));
        assert!(c.score >= LIKELY_SAME, "{c:?}");
    }

    #[test]
    fn short_forms_are_the_name_they_stand_for() {
        for (a, b) in [
            ("Harry", "Henry"),
            ("Milly", "Emily"),
            ("Becki", "Rebecca"),
            ("Paco", "Francisco"),
            ("Lupe", "Guadalupe"),
            ("Nacho", "Ignacio"),
            ("Bert", "Robert"),
            ("Bert", "Albert"),
        ] {
            assert!(given_similarity(a, b).0 >= 0.95, "{a} {b}");
            assert_eq!(given_similarity(a, b).1, "equivalent given names");
        }
        // A short form of two names does not make the two names one.
        assert_ne!(
            given_similarity("Robert", "Albert").1,
            "equivalent given names"
        );
        assert_ne!(
            given_similarity("Emily", "Mildred").1,
            "equivalent given names"
        );
        // A stored "Paco" is found by a search for "Francisco" and the other way round.
        let keys = |w: &str| variant_keys(w).into_iter().filter(|k| k.starts_with('#'));
        assert!(keys("Paco").any(|k| keys("Francisco").any(|j| j == k)));
        assert!(keys("Bert").count() >= 3);
    }

    #[test]
    fn a_spanish_j_sounds_like_ch() {
        for (es, yi) in [
            ("Najman", "Nachman"),
            ("Nejama", "Nechama"),
            ("Baruj", "Baruch"),
        ] {
            assert!(!dm_codes(es).is_disjoint(&dm_codes(yi)), "{es} {yi}");
        }
        // A first J is read as before.
        assert_eq!(
            dm_codes("John"),
            dm().inner_soundex("john", true).into_iter().collect()
        );
    }

    #[test]
    fn folding_and_skeletons() {
        assert_eq!(fold("  José-María "), "jose maria");
        assert_eq!(skeleton("Schwartz"), skeleton("Shvarz"));
        assert_eq!(skeleton("Weingarten"), skeleton("Veingarten"));
        assert!(!dm_codes("Weingarten").is_disjoint(&dm_codes("Vaingarten")));
        assert!(dm_codes("").is_empty());
        assert!(dm_codes("123").is_empty());
    }

    #[test]
    fn symmetric_and_reflexive_on_odd_input() {
        for (a, b) in [
            ("", ""),
            ("x", ""),
            ("🙂", "ñ"),
            ("a b c", "c b a"),
            ("ﬀ", "ff"),
            ("א", "ב"),
        ] {
            let ab = compare_names(&n(a, b), &n(b, a)).score;
            let ba = compare_names(&n(b, a), &n(a, b)).score;
            assert!((ab - ba).abs() < 1e-9, "{a} {b}");
        }
        assert!(compare_names(&n("Rivka", "Klein"), &n("Rivka", "Klein")).score >= 0.999);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn n(g: &str, f: &str) -> NameParts {
        NameParts {
            given: g.into(),
            family: f.into(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn a_name_always_matches_itself(g in "\\PC{1,20}", f in "\\PC{1,20}") {
            let c = compare_names(&n(&g, &f), &n(&g, &f));
            if !fold(&g).is_empty() && !fold(&f).is_empty() {
                prop_assert!(c.score >= 0.999, "{g} {f}: {c:?}");
            }
        }

        #[test]
        fn scores_are_symmetric_and_bounded(a in "\\PC{0,16}", b in "\\PC{0,16}", c in "\\PC{0,16}", d in "\\PC{0,16}") {
            let x = compare_names(&n(&a, &b), &n(&c, &d)).score;
            let y = compare_names(&n(&c, &d), &n(&a, &b)).score;
            prop_assert!((x - y).abs() < 1e-9);
            prop_assert!((0.0..=1.0).contains(&x));
        }

        #[test]
        fn normalisers_never_panic(s in "\\PC{0,40}") {
            let _ = fold(&s);
            let _ = skeleton(&s);
            let _ = dm_codes(&s);
            let _ = hebrew_to_latin(&s);
            let _ = variant_keys(&s);
        }
    }
}
