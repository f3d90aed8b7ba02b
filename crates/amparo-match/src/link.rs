//! Record linkage: comparison levels per field, blocking, Fellegi-Sunter weights with
//! u estimated from random pairs and m (and the prior) by expectation-maximisation
//! on the data itself, term-frequency adjustment for common names, and clustering.
use crate::{dm_codes, fold, given_names, skeleton};
use std::collections::HashMap;

/// What a record says of a birth, as far as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BirthParts {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    /// The year was derived from an estimated age: trust it to a year either way.
    pub approximate: bool,
    /// The date's eight digits as written (YYYYMMDD), kept even when they do not
    /// make a valid date: a typed-wrong digit still says a lot.
    pub digits: Option<[u8; 8]>,
}

/// One person as the linkage engine sees them.
#[derive(Debug, Clone, Default)]
pub struct Person {
    pub id: String,
    pub given: String,
    pub family: String,
    pub other_names: Vec<String>,
    pub sex: Option<char>,
    pub birth: BirthParts,
}

/// A person with the keys computed once.
struct Prepared {
    given: String,
    given_skel: String,
    given_groups: &'static [usize],
    given_dm: Vec<String>,
    family: String,
    family_skel: String,
    family_dm: Vec<String>,
    /// Beider-Morse codes, hashed: compared by intersection.
    given_bm: BmCodes,
    family_bm: BmCodes,
    /// Whether the name's first word is one letter ("W." for William): worked out
    /// once here, not in each of the 800,000 comparisons that estimating u makes.
    given_initial: bool,
    family_initial: bool,
    sex: Option<char>,
    birth: BirthParts,
}

/// Words that are titles, honours or ordinals rather than names: a record that says
/// "Sir" or "Dr." for a given name says nothing about who the person is, and two
/// records sharing only "Sir" must not agree on a name.
const NOT_NAMES: &[&str] = &[
    "sir",
    "lord",
    "lady",
    "dame",
    "dr",
    "doctor",
    "prof",
    "professor",
    "rev",
    "reverend",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "sr",
    "sra",
    "srta",
    "dona",
    "lic",
    "ing",
    "col",
    "colonel",
    "capt",
    "captain",
    "gen",
    "general",
    "maj",
    "major",
    "lt",
    "sgt",
    "hon",
    "baronet",
    "bt",
    "baron",
    "baroness",
    "viscount",
    "earl",
    "count",
    "countess",
    "duke",
    "duchess",
    "marquess",
    "king",
    "queen",
    "prince",
    "princess",
    "saint",
    "st",
    "of",
    "the",
    "jr",
    "junior",
    "snr",
    "senior",
    "1st",
    "2nd",
    "3rd",
    "4th",
    "5th",
    "6th",
    "7th",
    "8th",
    "9th",
    "ii",
    "iii",
    "iv",
    "nn",
    "unknown",
    "desconocido",
    "desconocida",
    "sin",
    "nombre",
];

fn clean_name(raw: &str) -> String {
    let folded = fold(raw);
    let words: Vec<&str> = folded
        .split(' ')
        .filter(|w| !w.is_empty() && !NOT_NAMES.contains(w))
        .collect();
    words.join(" ")
}

/// A name's Beider-Morse codes, hashed and sorted, with a 256-bit signature of them:
/// two names share a code only if their signatures share a bit, which settles almost
/// every pair of different names (most of the random pairs that estimate u) without
/// walking both lists.
#[derive(Debug, Clone, Default)]
struct BmCodes {
    signature: [u64; 4],
    codes: Vec<u64>,
}

fn hashed_bm(word: &str) -> BmCodes {
    use std::hash::{Hash, Hasher};
    let mut codes: Vec<u64> = crate::bm_codes(word)
        .iter()
        .map(|c| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            c.hash(&mut h);
            h.finish()
        })
        .collect();
    codes.sort_unstable();
    let mut signature = [0u64; 4];
    for h in &codes {
        let bit = (h >> 32) as usize % 256;
        signature[bit / 64] |= 1 << (bit % 64);
    }
    BmCodes { signature, codes }
}

fn shares(x: &BmCodes, y: &BmCodes) -> bool {
    if x.signature
        .iter()
        .zip(&y.signature)
        .all(|(p, q)| p & q == 0)
    {
        return false;
    }
    let (a, b) = (&x.codes, &y.codes);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    false
}

/// Prepare everyone, with Beider-Morse codes computed once per distinct name and
/// spread over the cores: the rule engine is the slowest step of preparation.
fn prepare_all(people: &[Person]) -> Vec<Prepared> {
    // Folding and Daitch-Mokotoff coding cost about 15 microseconds a person.
    let mut prepared = par_map(people, prepare);
    let mut words: Vec<String> = prepared
        .iter()
        .flat_map(|p| [first_word(&p.given), p.family.replace(' ', "")])
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_unstable();
    words.dedup();
    let codes: HashMap<&str, BmCodes> = words
        .iter()
        .zip(par_map(&words, |w| hashed_bm(w)))
        .map(|(w, c)| (w.as_str(), c))
        .collect();
    for p in prepared.iter_mut() {
        p.given_bm = codes
            .get(first_word(&p.given).as_str())
            .cloned()
            .unwrap_or_default();
        p.family_bm = codes
            .get(p.family.replace(' ', "").as_str())
            .cloned()
            .unwrap_or_default();
    }
    prepared
}

/// `f` of every item, in order, spread over the cores for lists long enough to pay
/// for the threads (a few names, as for one explanation, are done here). A part whose
/// thread failed is done again on this one, so no result goes missing or out of
/// place.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    par_map_from(items, 256, f)
}

/// `par_map` for items worth a thread each from `min` of them on.
fn par_map_from<T: Sync, R: Send>(items: &[T], min: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = if items.len() < min { 1 } else { cores() };
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                (
                    part,
                    s.spawn(move || part.iter().map(f).collect::<Vec<R>>()),
                )
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(part, h)| h.join().unwrap_or_else(|_| part.iter().map(f).collect()))
            .collect()
    })
}

/// Threads for the parallel steps: the machine's cores, at most 8.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
}

fn first_word(s: &str) -> String {
    s.split(' ').next().unwrap_or("").to_string()
}

/// An initial: a first word of one letter.
fn is_initial(name: &str) -> bool {
    name.split(' ')
        .next()
        .is_some_and(|w| w.chars().count() == 1)
}

fn prepare(p: &Person) -> Prepared {
    let mut given = clean_name(&p.given);
    let mut family = clean_name(&p.family);
    // A missing given or family name may be among the other names.
    if given.is_empty() {
        if let Some(o) = p.other_names.first() {
            given = clean_name(o);
        }
    }
    if family.is_empty() {
        if let Some(o) = p.other_names.get(1).or(p.other_names.first()) {
            family = clean_name(o);
        }
    }
    let first = |s: &str| s.split(' ').next().unwrap_or("").to_string();
    Prepared {
        given_skel: skeleton(&first(&given)),
        given_groups: given_groups(&p.given, &first(&given)),
        given_dm: dm_codes(&first(&given)).into_iter().collect(),
        family_skel: skeleton(&family),
        family_dm: dm_codes(&family.replace(' ', "")).into_iter().collect(),
        given_bm: BmCodes::default(),
        family_bm: BmCodes::default(),
        given_initial: is_initial(&given),
        family_initial: is_initial(&family),
        given,
        family,
        sex: p.sex,
        birth: p.birth,
    }
}

/// The name table's groups for a given name. The table holds names in Hebrew script as
/// written ("אברהם"), and folding transliterates them without vowels ("ebrhm"), so a
/// name in Hebrew script is looked up as written first.
fn given_groups(raw: &str, folded_first: &str) -> &'static [usize] {
    let written = raw
        .split_whitespace()
        .find(|w| !NOT_NAMES.contains(&fold(w).as_str()))
        .unwrap_or("");
    let groups = given_names::groups_of(written);
    if groups.is_empty() {
        given_names::groups_of(folded_first)
    } else {
        groups
    }
}

/// Comparison levels per field; 0 is the strongest agreement; `None` means missing.
const GIVEN: usize = 0;
const FAMILY: usize = 1;
const BIRTH: usize = 2;
const FIELDS: usize = 4;
const LEVELS: [usize; FIELDS] = [5, 5, 7, 2];
pub const FIELD_NAMES: [&str; FIELDS] = ["given_name", "family_name", "birth", "sex"];

/// One name as compared: folded, its skeleton, its phonetic codes.
struct NameKeys<'a> {
    text: &'a str,
    skel: &'a str,
    dm: &'a [String],
    bm: &'a BmCodes,
    initial: bool,
}

fn given_keys(p: &Prepared) -> NameKeys<'_> {
    NameKeys {
        text: &p.given,
        skel: &p.given_skel,
        dm: &p.given_dm,
        bm: &p.given_bm,
        initial: p.given_initial,
    }
}

fn family_keys(p: &Prepared) -> NameKeys<'_> {
    NameKeys {
        text: &p.family,
        skel: &p.family_skel,
        dm: &p.family_dm,
        bm: &p.family_bm,
        initial: p.family_initial,
    }
}

fn name_level(x: &NameKeys<'_>, y: &NameKeys<'_>, same_group: bool) -> Option<u8> {
    let (a, a_skel, a_dm) = (x.text, x.skel, x.dm);
    let (b, b_skel, b_dm) = (y.text, y.skel, y.dm);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a == b {
        return Some(0);
    }
    // An initial ("W." for William) agrees weakly with any name it starts.
    if x.initial || y.initial {
        return Some(if a.chars().next() == b.chars().next() {
            3
        } else {
            4
        });
    }
    if same_group || (!a_skel.is_empty() && a_skel == b_skel) {
        return Some(1);
    }
    // Most pairs compared (all the random ones that estimate u) are nowhere near
    // 0.8; a bound from the letters they share says so without the full measure.
    let jw = if jaro_winkler_bound(a_skel, b_skel) < 0.8 - 1e-9 {
        0.0
    } else {
        jaro_winkler(a_skel, b_skel)
    };
    // Sounds alike by Daitch-Mokotoff or by Beider-Morse.
    let dm = a_dm.iter().any(|c| b_dm.contains(c)) || shares(x.bm, y.bm);
    if jw >= 0.92 || (dm && jw >= 0.8) {
        Some(2)
    } else if jw >= 0.8 || dm {
        Some(3)
    } else {
        Some(4)
    }
}

/// At least `jaro_winkler(a, b)`, cheaply: the characters that can match are at most
/// those of each word whose letter occurs in the other (transpositions only lower
/// it). Only the levels' thresholds are compared with it, never a weight.
fn jaro_winkler_bound(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.is_empty() || y.is_empty() {
        return 1.0;
    }
    let mask = |w: &[u8]| w.iter().fold(0u64, |m, &c| m | 1 << (c % 64));
    let (mx, my) = (mask(x), mask(y));
    let present = |w: &[u8], other: u64| w.iter().filter(|&&c| other & 1 << (c % 64) != 0).count();
    let m = present(x, my).min(present(y, mx)) as f64;
    if m == 0.0 {
        return 0.0;
    }
    let jaro = (m / x.len() as f64 + m / y.len() as f64 + 1.0) / 3.0;
    let prefix = x.iter().take(4).zip(y).take_while(|(p, q)| p == q).count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

/// Jaro-Winkler similarity, exactly as `strsim::jaro_winkler` computes it, without its
/// two heap allocations for the short ASCII skeletons compared here: estimating u
/// compares 200,000 random pairs (four names each), and this was most of that time.
fn jaro_winkler(a: &str, b: &str) -> f64 {
    const MAX: usize = 64;
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > MAX || y.len() > MAX {
        return strsim::jaro_winkler(a, b);
    }
    let (la, lb) = (x.len(), y.len());
    if la == 0 && lb == 0 {
        return 1.0;
    }
    if la == 0 || lb == 0 {
        return 0.0;
    }
    let range = (la.max(lb) / 2).saturating_sub(1);
    let (mut fa, mut fb) = ([false; MAX], [false; MAX]);
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = lb.min(i + range + 1);
        for j in lo..hi {
            if !fb[j] && y[j] == c {
                fa[i] = true;
                fb[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for i in 0..la {
        if fa[i] {
            while !fb[j] {
                j += 1;
            }
            if x[i] != y[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    transpositions /= 2;
    let m = matches as f64;
    let sim = ((m / la as f64) + (m / lb as f64) + ((matches - transpositions) as f64 / m)) / 3.0;
    if sim > 0.7 {
        let prefix = x.iter().take(4).zip(y).take_while(|(p, q)| p == q).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

fn birth_level(a: &BirthParts, b: &BirthParts) -> Option<u8> {
    if let (Some(da), Some(db)) = (a.digits, b.digits) {
        if da == db {
            return Some(0);
        }
        let differing: Vec<usize> = (0..8).filter(|i| da[*i] != db[*i]).collect();
        let transposed = differing.len() == 2
            && differing[1] == differing[0] + 1
            && da[differing[0]] == db[differing[1]]
            && da[differing[1]] == db[differing[0]];
        let swapped = da[..4] == db[..4] && da[4..6] == db[6..8] && da[6..8] == db[4..6];
        if differing.len() == 1 || transposed || swapped {
            return Some(1);
        }
    }
    // The first of January is what many registers write when only the year is known:
    // such a date agrees with any date of its year, no more.
    let placeholder = |x: &BirthParts| x.month == Some(1) && x.day == Some(1);
    let same = a.year.is_some() && (a.year, a.month, a.day) == (b.year, b.month, b.day);
    if !same && (placeholder(a) || placeholder(b)) {
        let year_only = |x: &BirthParts| BirthParts {
            month: None,
            day: None,
            digits: None,
            ..*x
        };
        return birth_level(&year_only(a), &year_only(b));
    }
    let (ya, yb) = (a.year?, b.year?);
    if a.approximate || b.approximate {
        return Some(if (ya - yb).abs() <= 1 { 4 } else { YEARS_APART });
    }
    let full = |x: &BirthParts| x.month.is_some() && x.day.is_some();
    if full(a) && full(b) {
        if ya == yb && a.month == b.month && a.day == b.day {
            return Some(0);
        }
        // Day and month swapped, or one part typed wrongly.
        let swapped = ya == yb && a.month == b.day && a.day == b.month;
        let parts_equal = [ya == yb, a.month == b.month, a.day == b.day]
            .iter()
            .filter(|x| **x)
            .count();
        if swapped || parts_equal == 2 {
            return Some(1);
        }
    }
    if ya == yb && a.month.is_some() && a.month == b.month {
        return Some(2);
    }
    if ya == yb {
        return Some(3);
    }
    if (ya - yb).abs() <= 1 {
        return Some(4);
    }
    // A year typed with one wrong digit ("1857" / "1887") is common among one person's
    // records; years that differ otherwise almost never are (historical_50k: 34,051
    // true pairs one digit apart, 910 otherwise, of 178,381 with both years).
    let (sa, sb) = (ya.to_string(), yb.to_string());
    let one_digit =
        sa.len() == sb.len() && sa.bytes().zip(sb.bytes()).filter(|(x, y)| x != y).count() == 1;
    Some(if one_digit { 5 } else { YEARS_APART })
}

/// The birth level of years that disagree beyond a typo.
const YEARS_APART: u8 = 6;

type Vector = [Option<u8>; FIELDS];

fn compare(a: &Prepared, b: &Prepared) -> Vector {
    let same_group = given_names::same_group(a.given_groups, b.given_groups);
    let mut given = name_level(&given_keys(a), &given_keys(b), same_group);
    let mut family = name_level(&family_keys(a), &family_keys(b), false);
    // Given and family names written the other way round (often with a typo too).
    let sg = name_level(&given_keys(a), &family_keys(b), false);
    let sf = name_level(&family_keys(a), &given_keys(b), false);
    if let (Some(x), Some(y)) = (sg, sf) {
        let direct = given.unwrap_or(4) + family.unwrap_or(4);
        if x <= 2 && y <= 2 && x + y + 1 < direct {
            given = Some(x.max(1));
            family = Some(y.max(1));
        }
    }
    // A record with one name only may hold it in either field ("Talbott" alone against
    // "James Talbot"): it is compared with the other record's name it is closest to,
    // and the field it is not counts as missing.
    let lone = |p: &Prepared| p.given.is_empty() != p.family.is_empty();
    let both = |p: &Prepared| !p.given.is_empty() && !p.family.is_empty();
    if (lone(a) && both(b)) || (lone(b) && both(a)) {
        let given_only = a.family.is_empty() || b.family.is_empty();
        let direct = if given_only { given } else { family };
        if let (Some(d), Some(c)) = (direct, sg.or(sf)) {
            if c < d {
                if given_only {
                    (given, family) = (None, Some(c));
                } else {
                    (given, family) = (Some(c), None);
                }
            }
        }
    }
    // One name written in the other's place, the other name different or missing
    // ("Crook, Channing" against "Bethany Crook"): the family name agrees through the
    // swap, and the names left over are compared with each other.
    let poor = |l: Option<u8>| l.is_none_or(|l| l >= 3);
    if poor(given) && poor(family) {
        if let Some(x) = sg.filter(|x| *x <= 1) {
            family = Some(x.max(1));
            given = sf;
        } else if let Some(y) = sf.filter(|y| *y <= 1) {
            given = Some(y.max(1));
            family = sg;
        }
    }
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) => Some(u8::from(x != y)),
        _ => None,
    };
    [given, family, birth_level(&a.birth, &b.birth), sex]
}

/// The fitted model: per field and level, m and u; and the prior.
#[derive(Debug, Clone)]
pub struct Model {
    pub m: [Vec<f64>; FIELDS],
    pub u: [Vec<f64>; FIELDS],
    pub prior: f64,
}

/// Why two records were matched: each field's level and its weight (log2 of m/u).
#[derive(Debug, Clone)]
pub struct Explanation {
    pub levels: Vec<(String, Option<u8>, f64)>,
    pub total: f64,
}

pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub probability: f64,
}

/// Marks a block whose pairs need a record without a birth year on one side.
const UNDATED: char = '\u{1}';
/// Marks a block whose pairs need a record with one name on one side.
const LONE_NAME: char = '\u{2}';

/// Cheap keys; records sharing any key are compared.
fn block_keys(p: &Prepared) -> Vec<String> {
    let mut keys = Vec::new();
    let g1 = p.given_skel.chars().next();
    let year = p.birth.year;
    // A lone name may be either: it stands in for the missing one.
    let family_dm = if p.family_dm.is_empty() {
        &p.given_dm
    } else {
        &p.family_dm
    };
    let given_dm = if p.given_dm.is_empty() {
        &p.family_dm
    } else {
        &p.given_dm
    };
    for code in family_dm.iter().take(2) {
        if let Some(g) = g1 {
            keys.push(format!("f{code}{g}"));
        }
        if let Some(y) = year {
            keys.push(format!("y{code}{y}"));
        }
    }
    for code in given_dm.iter().take(1) {
        if let Some(y) = year {
            keys.push(format!("g{code}{y}"));
        }
    }
    if let Some(d) = p.birth.digits {
        keys.push(format!("d{}", String::from_utf8_lossy(&d)));
        if let Some(f) = p.family_skel.get(..p.family_skel.len().min(3)) {
            keys.push(format!("m{f}{}", String::from_utf8_lossy(&d[4..])));
        }
    }
    let g3 = p.given_skel.get(..p.given_skel.len().min(3)).unwrap_or("");
    let f3 = p
        .family_skel
        .get(..p.family_skel.len().min(3))
        .unwrap_or("");
    if !g3.is_empty() && !f3.is_empty() {
        keys.push(format!("s{g3}{f3}"));
    }
    // The same two names in either order.
    if let (Some(g), Some(f)) = (p.given_dm.first(), p.family_dm.first()) {
        let (x, y) = if g <= f { (g, f) } else { (f, g) };
        keys.push(format!("u{x}{y}"));
    }
    if let Some(f) = p.family_skel.get(..p.family_skel.len().min(3)) {
        for group in p.given_groups {
            keys.push(format!("n{group}{f}"));
        }
    }
    // A record with one name ("Bert", born 1835-10-14) and the full records of its
    // person ("Albert Ceely", 1834-10-14): the given name's group with the day of the
    // year or with the year. Only pairs with a one-name record are taken from these
    // blocks (LONE_NAME), so full records do not pay for them.
    // The first of January is a placeholder for most records that carry it.
    let day = p
        .birth
        .digits
        .map(|d| String::from_utf8_lossy(&d[4..]).to_string())
        .filter(|day| day != "0101");
    for group in p.given_groups {
        if let Some(day) = &day {
            keys.push(format!("{LONE_NAME}l{group}{day}"));
        }
        // A year alone ("Bert", 1835) is enough for this block.
        if let Some(y) = year {
            keys.push(format!("{LONE_NAME}l{group}{y}"));
        }
    }
    // A record without a year and any other with the same given name in another
    // language and a family name that sounds the same but starts with other letters
    // ("Judá Doich", "Yehuda Deutsch"). Two records with years already meet through
    // the family name's sound and the year, so only pairs with an undated record are
    // taken from these blocks (UNDATED).
    if let Some(code) = family_dm.first() {
        for group in p.given_groups {
            keys.push(format!("{UNDATED}p{group}{code}"));
        }
    }
    // Likewise (UNDATED): a given name that sounds the same and a family name whose
    // first letters differ but whose last five agree ("Efraín Alpern" / "Ephraim
    // Halpern", "Margaret Alrersley" / "Margaret Aldersley"), whether or not the name
    // table knows them.
    if p.family_skel.chars().count() >= 6 {
        let tail: String = {
            let c: Vec<char> = p.family_skel.chars().collect();
            c[c.len() - 5..].iter().collect()
        };
        if let Some(code) = given_dm.first() {
            keys.push(format!("{UNDATED}t{code}{tail}"));
        }
    }
    keys
}

/// Largest block compared in full. A bigger block (a common name, a common year)
/// is sorted by full name and birth and each record compared with its neighbours
/// only, so that the work grows with the block, not with its square.
const FULL_BLOCK: usize = 100;
const WINDOW: usize = 10;

fn sort_key(p: &Prepared) -> (String, String, Option<[u8; 8]>) {
    (p.family_skel.clone(), p.given_skel.clone(), p.birth.digits)
}

/// Candidate pairs: within one list (`split` = None) or across two lists, where
/// indices below `split` are the first list.
fn candidates(people: &[Prepared], split: Option<usize>) -> Vec<(u32, u32)> {
    // Blocks are found by a 64-bit hash of their key: a million records have tens of
    // millions of keys, and held as strings the map of blocks was near the peak of
    // memory (one more key a record without a year made it the peak: 3.0 GiB against
    // 2.8). Two keys sharing a hash would only add a few comparisons.
    let hash = |k: &str| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        k.hash(&mut h);
        h.finish()
    };
    let mut blocks: HashMap<u64, Vec<u32>> = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        for k in block_keys(p) {
            // The block's kind rides in the hash's two lowest bits.
            let kind = match k.chars().next() {
                Some(UNDATED) => 1,
                Some(LONE_NAME) => 2,
                _ => 0,
            };
            blocks
                .entry((hash(&k) & !3) | kind)
                .or_default()
                .push(i as u32);
        }
    }
    // Pairs from every block, then sorted and deduplicated: cheaper than hashing
    // millions of pairs into a set.
    let mut seen: Vec<(u32, u32)> = Vec::new();
    let dated = |x: u32| people[x as usize].birth.year.is_some();
    let full =
        |x: u32| !people[x as usize].given.is_empty() && !people[x as usize].family.is_empty();
    for (key, members) in blocks.iter_mut() {
        if members.len() < 2 {
            continue;
        }
        let kind = key & 3;
        let window = if members.len() > FULL_BLOCK {
            members.sort_by_cached_key(|&i| sort_key(&people[i as usize]));
            WINDOW
        } else {
            members.len()
        };
        for (x, &i) in members.iter().enumerate() {
            for &j in members[x + 1..].iter().take(window) {
                let (a, b) = if i < j { (i, j) } else { (j, i) };
                let cross_ok = match split {
                    None => true,
                    Some(s) => (a as usize) < s && (b as usize) >= s,
                };
                let wanted = match kind {
                    1 => !dated(a) || !dated(b),
                    2 => !full(a) || !full(b),
                    _ => true,
                };
                if cross_ok && wanted {
                    seen.push((a, b));
                }
            }
        }
    }
    lone_name_pairs(people, split, &mut seen);
    seen.sort_unstable();
    seen.dedup();
    seen
}

/// A record with one name and no birth year shares no block with its person's full
/// records unless that name's first letter happens to start their given name
/// ("Coborn" alone and "Charles Coborn"): it is compared with every record that has
/// its name, as given or family name, when few do. A common name alone says too
/// little to link anyone, so its block is not made.
fn lone_name_pairs(people: &[Prepared], split: Option<usize>, seen: &mut Vec<(u32, u32)>) {
    let mut lone: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        if p.given.is_empty() != p.family.is_empty() && p.birth.year.is_none() {
            let dm = if p.given.is_empty() {
                &p.family_dm
            } else {
                &p.given_dm
            };
            if let Some(code) = dm.first() {
                lone.entry(code).or_default().push(i as u32);
            }
        }
    }
    if lone.is_empty() {
        return;
    }
    let mut full: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        if p.given.is_empty() || p.family.is_empty() {
            continue;
        }
        for code in [p.given_dm.first(), p.family_dm.first()]
            .into_iter()
            .flatten()
        {
            if lone.contains_key(code.as_str()) {
                full.entry(code).or_default().push(i as u32);
            }
        }
    }
    for (code, alone) in &lone {
        let with = full.get(code).map_or(&[][..], Vec::as_slice);
        if alone.len() + with.len() > FULL_BLOCK {
            continue;
        }
        for (x, &i) in alone.iter().enumerate() {
            for &j in alone[x + 1..].iter().chain(with) {
                let (a, b) = if i < j { (i, j) } else { (j, i) };
                if split.is_none_or(|s| (a as usize) < s && (b as usize) >= s) {
                    seen.push((a, b));
                }
            }
        }
    }
}

/// u: how often non-matches agree, estimated from random pairs (almost all non-matches).
fn estimate_u(people: &[Prepared], split: Option<usize>, samples: usize) -> [Vec<f64>; FIELDS] {
    let n = people.len();
    let mut counts: [Vec<f64>; FIELDS] = LEVELS.map(|l| vec![1.0; l]);
    if n < 2 {
        return normalise(counts);
    }
    // Sampling is split into a fixed number of random streams, each with its own
    // fixed seed, spread over the cores: the result depends neither on timing nor on
    // how many cores the machine has (with one stream a core, historical_50k's F1 was
    // 0.8499 on one core and 0.8503 on two).
    const STREAMS: u64 = 8;
    let streams: Vec<u64> = (0..STREAMS).collect();
    let parts = par_map_from(&streams, 2, |&t| {
        sample_levels(
            people,
            split,
            samples / STREAMS as usize,
            0x9E37_79B9_7F4A_7C15 + t,
        )
    });
    for part in parts {
        for f in 0..FIELDS {
            for (c, x) in counts[f].iter_mut().zip(&part[f]) {
                *c += x;
            }
        }
    }
    normalise(counts)
}

#[allow(clippy::needless_range_loop)] // fields index parallel arrays
fn sample_levels(
    people: &[Prepared],
    split: Option<usize>,
    samples: usize,
    seed: u64,
) -> [Vec<f64>; FIELDS] {
    let n = people.len();
    let mut counts: [Vec<f64>; FIELDS] = LEVELS.map(|l| vec![0.0; l]);
    let mut state: u64 = seed;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..samples {
        let (i, j) = match split {
            None => ((next() % n as u64) as usize, (next() % n as u64) as usize),
            Some(s) if s > 0 && s < n => (
                (next() % s as u64) as usize,
                s + (next() % (n - s) as u64) as usize,
            ),
            _ => continue,
        };
        if i == j {
            continue;
        }
        let v = compare(&people[i], &people[j]);
        for f in 0..FIELDS {
            if let Some(l) = v[f] {
                counts[f][l as usize] += 1.0;
            }
        }
    }
    counts
}

fn normalise(mut c: [Vec<f64>; FIELDS]) -> [Vec<f64>; FIELDS] {
    for v in c.iter_mut() {
        let sum: f64 = v.iter().sum();
        for x in v.iter_mut() {
            *x = (*x / sum).max(1e-9);
        }
    }
    c
}

/// Fit m and the prior by expectation-maximisation over the candidate pairs' patterns.
fn fit_m(patterns: &HashMap<Vector, f64>, u: &[Vec<f64>; FIELDS]) -> ([Vec<f64>; FIELDS], f64) {
    // What matches usually look like, before the data says otherwise: most agree,
    // few disagree. Used as a starting point and as pseudo-counts, so that a small
    // file with few true matches cannot teach the model that disagreement is normal.
    let start: [Vec<f64>; FIELDS] = LEVELS.map(|l| {
        let mut v: Vec<f64> = (0..l).map(|i| 0.35f64.powi(i as i32)).collect();
        let s: f64 = v.iter().sum();
        v.iter_mut().for_each(|x| *x /= s);
        v
    });
    const PSEUDO: f64 = 20.0;
    let mut m = start.clone();
    let total: f64 = patterns.values().sum();
    let mut prior = 0.1f64;
    for _ in 0..40 {
        let mut mc: [Vec<f64>; FIELDS] = start
            .clone()
            .map(|v| v.iter().map(|x| x * PSEUDO).collect());
        let mut matches = 0.0;
        for (v, count) in patterns {
            let (mut pm, mut pu) = (prior, 1.0 - prior);
            for f in 0..FIELDS {
                if let Some(l) = v[f] {
                    pm *= m[f][l as usize];
                    pu *= u[f][l as usize];
                }
            }
            let w = pm / (pm + pu);
            matches += w * count;
            for f in 0..FIELDS {
                if let Some(l) = v[f] {
                    mc[f][l as usize] += w * count;
                }
            }
        }
        m = normalise(mc);
        prior = (matches / total).clamp(1e-6, 0.999);
    }
    (m, prior)
}

fn log2(x: f64) -> f64 {
    x.max(1e-12).log2()
}

/// The result of a linkage run.
pub struct Linkage {
    pub model: Model,
    pub pairs: Vec<Pair>,
    pub compared: usize,
}

/// Every candidate pair (sorted, unique) with its weight of evidence in bits
/// (log2 of the odds of a match, prior included).
struct Scored {
    model: Model,
    pairs: Vec<(u32, u32)>,
    bits: Vec<f64>,
}

fn probability(bits: f64) -> f64 {
    1.0 / (1.0 + 2f64.powf(-bits))
}

/// Link one list with itself (`split` None) or two lists (`people` = first ++ second,
/// `split` = length of the first). Pairs at or above `threshold` are returned.
pub fn link(people: &[Person], split: Option<usize>, threshold: f64) -> Linkage {
    let scored = score(people, split);
    let pairs = scored
        .pairs
        .iter()
        .zip(&scored.bits)
        .map(|(&(a, b), &bits)| Pair {
            a: a as usize,
            b: b as usize,
            probability: probability(bits),
        })
        .filter(|p| p.probability >= threshold)
        .collect();
    Linkage {
        model: scored.model,
        pairs,
        compared: scored.pairs.len(),
    }
}

/// Evidence at or below this (about 1 in 60) counts as "not the same person"; pairs
/// never compared (blocking kept them apart) count the same.
const GROUP_FLOOR_BITS: f64 = -6.0;
/// A record or group joins another only when its average evidence over all their
/// members is at least this (odds of about 1 to 8): one strong link cannot drag a
/// group of look-alikes into another person.
const GROUP_NEED_BITS: f64 = -3.0;
/// No person is recorded this many times in one list; stop a group before it grows
/// past it.
const GROUP_MAX_PAIRS: usize = 40_000;

/// Deduplicate one list into people. Pairs at or above `threshold` seed the groups,
/// most probable first; two groups are joined only when the average evidence over
/// every pair between them (compared or not) is not strongly against. Every pair
/// inside a group is returned, with its own probability or, when its records are
/// linked only through others, the probability of the link that joined their groups.
pub fn dedupe(people: &[Person], threshold: f64) -> Linkage {
    let scored = score(people, None);
    // The evidence of a compared pair (candidates are sorted), in either order.
    let bits_of = |a: u32, b: u32| -> Option<f64> {
        let key = if a < b { (a, b) } else { (b, a) };
        scored
            .pairs
            .binary_search(&key)
            .ok()
            .map(|i| scored.bits[i])
    };
    let mut seeds: Vec<usize> = (0..scored.pairs.len())
        .filter(|&i| probability(scored.bits[i]) >= threshold)
        .collect();
    seeds.sort_by(|x, y| {
        scored.bits[*y]
            .total_cmp(&scored.bits[*x])
            .then(scored.pairs[*x].cmp(&scored.pairs[*y]))
    });
    let n = people.len();
    let mut group: Vec<u32> = (0..n as u32).collect();
    let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    let mut out = Vec::new();
    for i in seeds {
        let (a, b) = scored.pairs[i];
        let (ga, gb) = (group[a as usize] as usize, group[b as usize] as usize);
        if ga == gb {
            continue;
        }
        let cross = members[ga].len() * members[gb].len();
        if cross > GROUP_MAX_PAIRS {
            continue;
        }
        if births_conflict(&members[ga], &members[gb], people) {
            continue;
        }
        let mut total = 0.0;
        for &x in &members[ga] {
            for &y in &members[gb] {
                total += bits_of(x, y).map_or(GROUP_FLOOR_BITS, |b| b.max(GROUP_FLOOR_BITS));
            }
        }
        if total / (cross as f64) < GROUP_NEED_BITS {
            continue;
        }
        let joined = probability(scored.bits[i]);
        for &x in &members[ga] {
            for &y in &members[gb] {
                let (p, q) = if x < y { (x, y) } else { (y, x) };
                let own = bits_of(p, q).map_or(0.0, probability);
                out.push(Pair {
                    a: p as usize,
                    b: q as usize,
                    probability: own.max(joined),
                });
            }
        }
        let (keep, gone) = if members[ga].len() >= members[gb].len() {
            (ga, gb)
        } else {
            (gb, ga)
        };
        let moved = std::mem::take(&mut members[gone]);
        for &x in &moved {
            group[x as usize] = keep as u32;
        }
        members[keep].extend(moved);
    }
    out.sort_by_key(|p| (p.a, p.b));
    Linkage {
        model: scored.model,
        pairs: out,
        compared: scored.pairs.len(),
    }
}

/// Expectation-maximisation can mistake a large group of look-alikes (the same common
/// name, different people) for the matches. Whatever it learns, agreeing must never
/// weigh less than agreeing less, and total disagreement must count against a match.
fn monotone(m: &mut [Vec<f64>; FIELDS], u: &[Vec<f64>; FIELDS]) {
    for f in 0..FIELDS {
        // Pool adjacent levels whose odds rise where they should fall (the maximum
        // likelihood under that order): a level with little data takes its
        // neighbours' odds instead of dragging every later level with it.
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for (&mf, &uf) in m[f].iter().zip(&u[f]) {
            blocks.push((mf, uf, 1));
            while let [.., (m1, u1, n1), (m2, u2, n2)] = blocks[..] {
                if m2 * u1 <= m1 * u2 {
                    break;
                }
                blocks.truncate(blocks.len() - 2);
                blocks.push((m1 + m2, u1 + u2, n1 + n2));
            }
        }
        let weights: Vec<f64> = blocks
            .iter()
            .flat_map(|&(bm, bu, k)| std::iter::repeat_n(log2(bm / bu), k))
            .collect();
        let levels = m[f].len();
        for (l, mut w) in weights.into_iter().enumerate() {
            if l == levels - 1 {
                // Real matches disagree completely only through data errors: a few
                // in a hundred at most.
                w = w.min(log2(0.05 / u[f][l])).min(-2.0);
            }
            m[f][l] = u[f][l] * 2f64.powf(w);
        }
    }
}

/// How many records carry each exact name and each birth date, for the term-frequency
/// adjustment.
struct Frequencies<'a> {
    given: HashMap<&'a str, f64>,
    family: HashMap<&'a str, f64>,
    dates: HashMap<[u8; 8], f64>,
    records: f64,
}

impl<'a> Frequencies<'a> {
    fn of(prepared: &'a [Prepared]) -> Self {
        let mut given: HashMap<&str, f64> = HashMap::new();
        let mut family: HashMap<&str, f64> = HashMap::new();
        let mut dates: HashMap<[u8; 8], f64> = HashMap::new();
        for p in prepared {
            *given.entry(p.given.as_str()).or_default() += 1.0;
            *family.entry(p.family.as_str()).or_default() += 1.0;
            if let Some(d) = p.birth.digits {
                *dates.entry(d).or_default() += 1.0;
            }
        }
        Frequencies {
            given,
            family,
            dates,
            records: prepared.len() as f64,
        }
    }
}

/// One field's weight of evidence in bits for a pair at `level` (0 when missing).
fn field_bits(
    m: &[Vec<f64>; FIELDS],
    u: &[Vec<f64>; FIELDS],
    names: &Frequencies<'_>,
    f: usize,
    level: Option<u8>,
    a: &Prepared,
    b: &Prepared,
) -> f64 {
    let Some(l) = level else { return 0.0 };
    let l = l as usize;
    let mut chance = u[f][l];
    if l == 0 && (f == GIVEN || f == FAMILY) {
        let (tf, x, y) = if f == GIVEN {
            (&names.given, &a.given, &b.given)
        } else {
            (&names.family, &a.family, &b.family)
        };
        // A record with one name agrees through the other's field: the name agreed
        // on is the one that is there, never the empty one (whose frequency is that
        // of every record missing the field).
        let value = if x.is_empty() { y } else { x }.as_str();
        let freq = tf.get(value).copied().unwrap_or(1.0) / names.records;
        // Agreeing on a rare name says more than on a common one.
        chance = freq.max(1.0 / names.records);
    }
    // Likewise a birth date: many records share a register's placeholder ("1850-01-01")
    // or a date typed in bulk; a date few records carry says much more.
    if l == 0 && f == BIRTH {
        if let Some(d) = a.birth.digits.or(b.birth.digits) {
            let freq = names.dates.get(&d).copied().unwrap_or(1.0) / names.records;
            chance = freq.max(1.0 / names.records);
        }
    }
    log2(m[f][l] / chance)
}

/// Evidence from the other fields at or above this (odds of 128 to 1) makes a pair an
/// anchor for learning how a field's matches look.
const ANCHOR_BITS: f64 = 7.0;
/// The fitted m counts as this many anchors, so that a small file keeps it.
const ANCHOR_PSEUDO: f64 = 20.0;

/// m learnt again from the pairs the other fields already make near certain: for each
/// field, how often it agrees at each level among the pairs whose *other* fields give
/// at least `ANCHOR_BITS` of evidence. Expectation-maximisation over the candidates
/// ends with nearly all of them counted as matches (its share of matches reaches its
/// cap on every benchmark), so its m is the candidates' own distribution: a birth year
/// far off weighed -4 bits, where records of one person almost never disagree so.
/// Anchors give m from pairs that are matches for reasons independent of the field.
#[allow(clippy::needless_range_loop)] // fields index several parallel arrays
fn anchored_m(
    pairs: &[(u32, u32)],
    vectors: &[Vector],
    prepared: &[Prepared],
    m: &[Vec<f64>; FIELDS],
    u: &[Vec<f64>; FIELDS],
    names: &Frequencies<'_>,
    base: f64,
) -> [Vec<f64>; FIELDS] {
    let mut counts: [Vec<f64>; FIELDS] = LEVELS.map(|l| vec![0.0; l]);
    for (&(a, b), v) in pairs.iter().zip(vectors) {
        let (pa, pb) = (&prepared[a as usize], &prepared[b as usize]);
        let w: [f64; FIELDS] = std::array::from_fn(|f| field_bits(m, u, names, f, v[f], pa, pb));
        let total: f64 = base + w.iter().sum::<f64>();
        for f in 0..FIELDS {
            if let Some(l) = v[f] {
                if total - w[f] >= ANCHOR_BITS {
                    counts[f][l as usize] += 1.0;
                }
            }
        }
    }
    std::array::from_fn(|f| {
        let anchors: f64 = counts[f].iter().sum();
        counts[f]
            .iter()
            .zip(&m[f])
            .map(|(c, x)| (c + ANCHOR_PSEUDO * x) / (anchors + ANCHOR_PSEUDO))
            .collect()
    })
}

/// The value most of `items` share, when at least two do and no other value is as
/// common.
fn established<T: PartialEq + Copy>(items: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: Vec<(T, u32)> = Vec::new();
    for x in items {
        match counts.iter_mut().find(|(v, _)| *v == x) {
            Some((_, c)) => *c += 1,
            None => counts.push((x, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    match counts[..] {
        [(x, c), (_, d), ..] if c >= 2 && c > d => Some(x),
        [(x, c)] if c >= 2 => Some(x),
        _ => None,
    }
}

/// Whether two groups of records are two people by their births: each group agrees
/// within itself on a birth year (two records or more) and the years are more than one
/// apart, or each on a full date and the dates differ in the year or in both month and
/// day (not swapped). One person has one birth; a typo in one record does not make a
/// group's year, and records with one undated name ("John Smith") no longer bridge
/// two namesakes born decades apart. Years from an estimated age do not count.
fn births_conflict(a: &[u32], b: &[u32], people: &[Person]) -> bool {
    let births = |g: &[u32]| {
        let exact: Vec<&BirthParts> = g
            .iter()
            .map(|&x| &people[x as usize].birth)
            .filter(|b| !b.approximate)
            .collect();
        let year = established(exact.iter().filter_map(|b| b.year));
        let date = established(exact.iter().filter_map(|b| match (b.year, b.month, b.day) {
            // The first of January stands for an unknown day in many registers.
            (Some(y), Some(m), Some(d)) if (m, d) != (1, 1) => Some((y, m, d)),
            _ => None,
        }));
        (year, date)
    };
    let ((ya, da), (yb, db)) = (births(a), births(b));
    if let (Some(ya), Some(yb)) = (ya, yb) {
        if (ya - yb).abs() > 1 {
            return true;
        }
    }
    if let (Some((y1, m1, d1)), Some((y2, m2, d2))) = (da, db) {
        return y1 != y2 || (m1 != m2 && d1 != d2 && (m1, d1) != (d2, m2));
    }
    false
}

#[allow(clippy::needless_range_loop)] // fields index several parallel arrays
fn score(people: &[Person], split: Option<usize>) -> Scored {
    let prepared = prepare_all(people);
    let pairs = candidates(&prepared, split);
    let u = estimate_u(&prepared, split, 200_000);
    // Comparing is most of the work.
    let vectors: Vec<Vector> = par_map(&pairs, |&(a, b)| {
        compare(&prepared[a as usize], &prepared[b as usize])
    });
    let mut patterns: HashMap<Vector, f64> = HashMap::new();
    for v in &vectors {
        *patterns.entry(*v).or_default() += 1.0;
    }
    let (mut m, prior) = fit_m(&patterns, &u);
    monotone(&mut m, &u);
    let names = Frequencies::of(&prepared);
    // The prior over all possible pairs, not just the candidates.
    let n = people.len() as f64;
    let possible = match split {
        None => n * (n - 1.0) / 2.0,
        Some(s) => s as f64 * (n - s as f64),
    };
    let global_prior = (prior * pairs.len() as f64 / possible.max(1.0)).clamp(1e-12, 0.5);
    let base = log2(global_prior / (1.0 - global_prior));
    m = anchored_m(&pairs, &vectors, &prepared, &m, &u, &names, base);
    monotone(&mut m, &u);
    let model = Model {
        m,
        u,
        prior: global_prior,
    };
    let bits = pairs
        .iter()
        .zip(&vectors)
        .map(|(&(a, b), v)| {
            let (pa, pb) = (&prepared[a as usize], &prepared[b as usize]);
            base + (0..FIELDS)
                .map(|f| field_bits(&model.m, &model.u, &names, f, v[f], pa, pb))
                .sum::<f64>()
        })
        .collect();
    Scored { model, pairs, bits }
}

/// Explain a pair's score field by field.
pub fn explain(model: &Model, a: &Person, b: &Person) -> Explanation {
    let both = prepare_all(&[a.clone(), b.clone()]);
    let v = compare(&both[0], &both[1]);
    let mut total = log2(model.prior / (1.0 - model.prior));
    let mut levels = Vec::new();
    for f in 0..FIELDS {
        let w = v[f]
            .map(|l| log2(model.m[f][l as usize] / model.u[f][l as usize]))
            .unwrap_or(0.0);
        total += w;
        levels.push((FIELD_NAMES[f].to_string(), v[f], w));
    }
    Explanation { levels, total }
}

/// Between two lists that each hold a person once, a record links to at most one
/// record of the other list: pairs are taken most probable first, and a pair whose
/// record is already taken is dropped. A look-alike then loses to the better match
/// instead of standing beside it.
pub fn one_to_one(mut pairs: Vec<Pair>, n: usize) -> Vec<Pair> {
    pairs.sort_by(|x, y| {
        y.probability
            .total_cmp(&x.probability)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    let mut taken = vec![false; n];
    pairs.retain(|p| {
        if taken[p.a] || taken[p.b] {
            return false;
        }
        taken[p.a] = true;
        taken[p.b] = true;
        true
    });
    pairs
}

/// Group matched pairs into people (connected components).
pub fn clusters(n: usize, pairs: &[Pair]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for pair in pairs {
        let (ra, rb) = (find(&mut parent, pair.a), find(&mut parent, pair.b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    (0..n).map(|i| find(&mut parent, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, g: &str, f: &str, y: i32, m: u32, d: u32) -> Person {
        Person {
            id: id.into(),
            given: g.into(),
            family: f.into(),
            birth: BirthParts {
                year: Some(y),
                month: Some(m),
                day: Some(d),
                approximate: false,
                digits: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn finds_the_same_child_and_not_the_sibling() {
        let mut people = vec![
            p("a1", "Jacobo", "Vaingarten", 2014, 3, 2),
            p("b1", "Yaakov", "Weingarten", 2014, 2, 3),
            p("a2", "Moshe", "Vaingarten", 2015, 6, 1),
            p("b2", "Rivka", "Klein", 2012, 1, 9),
        ];
        // Enough other people for the model to learn what a non-match looks like.
        let families = [
            "Rosenberg",
            "Friedman",
            "Goldstein",
            "Schwartz",
            "Teitelbaum",
            "Halberstam",
            "Rubin",
            "Stern",
            "Katz",
            "Landau",
        ];
        let givens = [
            "Sara", "Leah", "Chaim", "Dovid", "Esther", "Malka", "Pinchas", "Shifra", "Baruch",
            "Golda",
        ];
        for i in 0..300 {
            people.push(p(
                &format!("x{i}"),
                givens[i % 10],
                families[(i / 10) % 10],
                2005 + (i % 13) as i32,
                1 + (i % 12) as u32,
                1 + (i % 27) as u32,
            ));
        }
        let l = link(&people, None, 0.0);
        let prob = |x: &str, y: &str| {
            l.pairs
                .iter()
                .find(|p| people[p.a].id == x && people[p.b].id == y)
                .map(|p| p.probability)
                .unwrap_or(0.0)
        };
        let same = prob("a1", "b1");
        let siblings = prob("a1", "a2");
        assert!(
            same > 0.2 && same > 20.0 * siblings,
            "same child {same}, siblings {siblings}"
        );
        assert!(siblings < 0.05, "siblings are not one child: {siblings}");
        let e = explain(&l.model, &people[0], &people[1]);
        assert_eq!(e.levels.len(), 4);
        assert!(
            e.levels
                .iter()
                .any(|(f, l, _)| f == "birth" && *l == Some(1)),
            "day and month swapped: {e:?}"
        );
    }

    #[test]
    fn birth_levels() {
        let b = |y, m, d| BirthParts {
            year: Some(y),
            month: Some(m),
            day: Some(d),
            approximate: false,
            digits: None,
        };
        assert_eq!(birth_level(&b(2014, 3, 2), &b(2014, 3, 2)), Some(0));
        assert_eq!(birth_level(&b(2014, 3, 2), &b(2014, 2, 3)), Some(1));
        assert_eq!(birth_level(&b(2014, 3, 2), &b(2014, 3, 9)), Some(1));
        assert_eq!(birth_level(&b(2014, 3, 2), &b(2014, 7, 9)), Some(3));
        assert_eq!(birth_level(&b(2014, 3, 2), &b(2015, 7, 9)), Some(4));
        // A year a digit off is a typo's mark; years apart otherwise are two people.
        assert_eq!(birth_level(&b(1857, 3, 2), &b(1887, 7, 9)), Some(5));
        assert_eq!(
            birth_level(&b(1677, 3, 2), &b(1809, 7, 9)),
            Some(YEARS_APART)
        );
        let year_only = BirthParts {
            year: Some(2014),
            ..Default::default()
        };
        assert_eq!(birth_level(&year_only, &b(2014, 7, 9)), Some(3));
        assert_eq!(birth_level(&BirthParts::default(), &b(2014, 7, 9)), None);
    }

    #[test]
    fn a_lone_name_is_compared_as_either_name() {
        let prep = |g: &str, f: &str| prepare(&p("x", g, f, 1726, 6, 27));
        let full = prep("James", "Talbot");
        for lone in [prep("Talbott", ""), prep("", "Talbott")] {
            for v in [compare(&lone, &full), compare(&full, &lone)] {
                assert_eq!(v[GIVEN], None, "{v:?}");
                assert!(v[FAMILY].is_some_and(|l| l <= 2), "{v:?}");
            }
            // Blocking brings them together too.
            assert_eq!(candidates(&[lone, prep("James", "Talbot")], None), [(0, 1)]);
        }
        let v = compare(&prep("", "James"), &full);
        assert_eq!((v[GIVEN], v[FAMILY]), (Some(0), None), "{v:?}");
        // Two full names are compared field by field as before.
        let v = compare(&prep("Talbot", "James"), &prep("James", "Talbot"));
        assert!(v[GIVEN].is_some() && v[FAMILY].is_some(), "{v:?}");
    }

    #[test]
    fn a_lone_name_weighs_the_same_in_either_order() {
        let lone = Person {
            id: "lone".into(),
            given: "Coborn".into(),
            ..Default::default()
        };
        let full = p("full", "Charles", "Coborn", 1850, 8, 4);
        let givens = ["Ada", "Ezra", "Ida", "Otto", "Uma", "Ivo", "Eli", "Ava"];
        let families = ["Pym", "Ngata", "Oduya", "Varga", "Quist", "Lind", "Mbeki"];
        let filler: Vec<Person> = (0..280)
            .map(|i| {
                let mut f = p(
                    &format!("x{i}"),
                    givens[i % 8],
                    families[(i / 8) % 7],
                    1840 + (i % 30) as i32,
                    1 + (i % 12) as u32,
                    1 + (i % 28) as u32,
                );
                // Many records with no family name, as in old registers.
                if i % 3 == 0 {
                    f.family.clear();
                }
                f
            })
            .collect();
        let prob = |first: &Person, second: &Person| {
            let mut people = vec![first.clone(), second.clone()];
            people.extend(filler.iter().cloned());
            let l = link(&people, None, 0.0);
            l.pairs
                .iter()
                .find(|q| (q.a, q.b) == (0, 1))
                .map_or(0.0, |q| q.probability)
        };
        let (lone_first, full_first) = (prob(&lone, &full), prob(&full, &lone));
        assert!(lone_first > 0.0, "compared: {lone_first} {full_first}");
        // The same up to the random sample that estimates u, which picks records by
        // position and splits over however many cores the machine has; the bug this
        // guards against gave 0.09 against 0.90.
        assert!(
            (lone_first - full_first).abs() < 1e-4,
            "{lone_first} against {full_first}"
        );
    }

    #[test]
    fn a_short_form_agrees_with_its_names_only() {
        let prep = |g: &str| prepare(&p("x", g, "Stephens", 1796, 3, 1));
        for (short, full) in [("Harry", "Henry"), ("Harry", "Harold"), ("Bert", "Robert")] {
            let v = compare(&prep(short), &prep(full));
            assert_eq!(v[GIVEN], Some(1), "{short} {full}");
            // Blocking brings them together.
            assert_eq!(candidates(&[prep(short), prep(full)], None), [(0, 1)]);
        }
        assert!(compare(&prep("Henry"), &prep("Harold"))[GIVEN] > Some(1));
        assert!(compare(&prep("Robert"), &prep("Albert"))[GIVEN] > Some(1));
    }

    /// A person with names only, prepared.
    fn named(given: &str, family: &str) -> Prepared {
        prepare(&Person {
            id: "x".into(),
            given: given.into(),
            family: family.into(),
            ..Default::default()
        })
    }

    #[test]
    fn a_given_name_in_hebrew_script_agrees_with_its_translations() {
        // Folded without vowels, "אברהם" reads "ebrhm"; the name table knows it as
        // written.
        for (hebrew, latin) in [("אברהם", "Abraham"), ("יהודית", "Judit"), ("יהודה", "Judá")]
        {
            let v = compare(&named(hebrew, "Berkovich"), &named(latin, "Berkovich"));
            assert_eq!(v[GIVEN], Some(1), "{hebrew} {latin}");
        }
        assert!(
            compare(&named("אברהם", "Berkovich"), &named("Moses", "Berkovich"))[GIVEN] > Some(1)
        );
        // A title before the name is passed over.
        assert!(!named("Dr. אברהם", "Berkovich").given_groups.is_empty());
        // Without a year, the same given name in two languages and a family name that
        // sounds alike but starts otherwise share a block.
        assert_eq!(
            candidates(&[named("Judá", "Doich"), named("Yehuda", "Deutsch")], None),
            [(0, 1)]
        );
    }

    #[test]
    fn a_family_name_starting_otherwise_shares_a_block_without_a_year() {
        // A Spanish spelling drops the H; neither given name is in the name table.
        let pairs = candidates(
            &[named("Efraín", "Alpern"), named("Ephraim", "Halpern")],
            None,
        );
        assert_eq!(pairs, [(0, 1)]);
        assert!(matches!(
            compare(&named("Efraín", "Alpern"), &named("Ephraim", "Halpern"))[FAMILY],
            Some(l) if l <= 2
        ));
    }

    fn born(given: &str, family: &str, date: &str) -> Person {
        let digits: Option<[u8; 8]> = date.replace('-', "").as_bytes().try_into().ok();
        let plain = date.replace('-', "");
        let num = |r: std::ops::Range<usize>| plain.get(r)?.parse::<u32>().ok();
        Person {
            id: format!("{given} {family} {date}"),
            given: given.into(),
            family: family.into(),
            birth: BirthParts {
                year: num(0..4).map(|y| y as i32),
                month: num(4..6),
                day: num(6..8),
                approximate: false,
                digits,
            },
            ..Default::default()
        }
    }

    #[test]
    fn an_undated_record_meets_its_dated_person_through_the_family_names_tail() {
        // A typo inside the family name changes its sound and first letters.
        let undated = born("Margaret", "Alrersley", "");
        let dated = born("Margaret", "Aldersley", "1852-03-04");
        let prep = |p: &[&Person]| p.iter().map(|x| prepare(x)).collect::<Vec<_>>();
        assert_eq!(candidates(&prep(&[&undated, &dated]), None), [(0, 1)]);
        // Two dated records do not pair through it: their years already block them.
        let other = born("Margaret", "Alrersley", "1901-05-06");
        assert!(candidates(&prep(&[&other, &dated]), None).is_empty());
    }

    #[test]
    fn a_record_with_one_name_meets_its_person_through_the_given_names_group() {
        // "Bert" alone, the year a digit off: his group and the day of the year.
        let lone = born("Bert", "", "1835-10-14");
        let full = born("Albert", "Ceely", "1834-10-14");
        let pairs = candidates(&[prepare(&lone), prepare(&full)], None);
        assert_eq!(pairs, [(0, 1)]);
        // A year alone is enough.
        let year_only = Person {
            birth: BirthParts {
                year: Some(1834),
                ..Default::default()
            },
            ..born("Bert", "", "")
        };
        assert_eq!(
            candidates(&[prepare(&year_only), prepare(&full)], None),
            [(0, 1)]
        );
        // Two full records are not paired by these blocks.
        let another = born("Albert", "Whitlow", "1900-10-14");
        assert!(candidates(&[prepare(&another), prepare(&full)], None).is_empty());
    }

    #[test]
    fn namesakes_born_years_apart_stay_two_people() {
        // Two William Joneses, each recorded three times with his own birth, and two
        // undated William Jones records that agree with both.
        let mut people = Vec::new();
        for date in ["1851-07-27", "1851-07-27", "1851-07-17"] {
            people.push(born("William", "Jones", date));
        }
        for date in ["1844-06-03", "1844-06-03", "1844-06-08"] {
            people.push(born("William", "Jones", date));
        }
        people.push(born("William", "Jones", ""));
        people.push(born("Willie", "Jones", ""));
        let (givens, families) = (
            [
                "Ann", "Hugh", "Mary", "Owen", "Jane", "Evan", "Ruth", "Rhys", "Elin", "Dai",
            ],
            [
                "Price", "Lloyd", "Morgan", "Pugh", "Rees", "Vaughan", "Bevan", "Powell",
            ],
        );
        for i in 0..400 {
            let date = format!("{}-{:02}-{:02}", 1800 + i % 90, 1 + i % 12, 1 + i % 28);
            people.push(born(givens[i % 10], families[(i / 10) % 8], &date));
        }
        let l = dedupe(&people, 0.5);
        let groups = clusters(people.len(), &l.pairs);
        assert_eq!(
            groups[0], groups[1],
            "one William's own records are one person"
        );
        assert_eq!(
            groups[3], groups[4],
            "one William's own records are one person"
        );
        assert_ne!(groups[0], groups[3], "born seven years apart: two people");
        // Each agrees within itself: the conflict is between the groups' births.
        let (a, b) = ([0, 1, 2], [3, 4, 5]);
        assert!(births_conflict(&a, &b, &people));
        assert!(!births_conflict(&a, &[0, 6], &people));
        // One record's typo does not make a group's year.
        assert!(!births_conflict(&a, &[3], &people));
    }

    #[test]
    fn a_shared_rare_birth_date_says_more_than_a_shared_placeholder() {
        let mut people: Vec<Person> = (0..40)
            .map(|i| born(&format!("Given{i}"), &format!("Family{i}"), "1850-01-01"))
            .collect();
        people.push(born("Ann", "Price", "1850-08-17"));
        people.push(born("Ann", "Pryce", "1850-08-17"));
        let prepared: Vec<Prepared> = people.iter().map(prepare).collect();
        let names = Frequencies::of(&prepared);
        let m: [Vec<f64>; FIELDS] = LEVELS.map(|l| vec![0.5 / l as f64; l]);
        let u: [Vec<f64>; FIELDS] = LEVELS.map(|l| vec![1.0 / l as f64; l]);
        let bits = |a: usize, b: usize| {
            let level = birth_level(&prepared[a].birth, &prepared[b].birth);
            assert_eq!(level, Some(0));
            field_bits(&m, &u, &names, BIRTH, level, &prepared[a], &prepared[b])
        };
        // 40 of 42 records carry 1 January; 2 carry 17 August.
        assert!((bits(40, 41) - log2(m[BIRTH][0] / (2.0 / 42.0))).abs() < 1e-9);
        assert!((bits(0, 1) - log2(m[BIRTH][0] / (40.0 / 42.0))).abs() < 1e-9);
        // A missing birth weighs nothing.
        assert_eq!(
            field_bits(&m, &u, &names, BIRTH, None, &prepared[0], &prepared[1]),
            0.0
        );
    }

    #[test]
    fn a_level_without_data_takes_its_neighbours_odds() {
        let flat = |w: &[f64]| w.to_vec();
        // Birth: level 2 never seen among random pairs and barely among matches.
        let mut m: [Vec<f64>; FIELDS] = [
            flat(&[0.6, 0.2, 0.1, 0.05, 0.05]),
            flat(&[0.6, 0.2, 0.1, 0.05, 0.05]),
            flat(&[0.5, 0.3, 1e-6, 0.1, 0.05, 0.04, 0.01]),
            flat(&[0.95, 0.05]),
        ];
        let u: [Vec<f64>; FIELDS] = [
            flat(&[0.01, 0.01, 0.02, 0.06, 0.9]),
            flat(&[0.01, 0.01, 0.02, 0.06, 0.9]),
            flat(&[0.002, 0.02, 1e-9, 0.02, 0.04, 0.03, 0.888]),
            flat(&[0.7, 0.3]),
        ];
        monotone(&mut m, &u);
        let w: Vec<f64> = (0..7).map(|l| log2(m[2][l] / u[2][l])).collect();
        assert!(w.windows(2).all(|p| p[0] >= p[1] - 1e-9), "{w:?}");
        // Same year (level 3) keeps its own odds of 5 to 1 (before, the empty level
        // pulled it and every later level down to about -10 bits).
        assert!((w[3] - log2(0.1 / 0.02)).abs() < 1e-9, "{w:?}");
        // Levels out of order are pooled: one digit off (0.04 / 0.03) would weigh more
        // than a year apart (0.05 / 0.04); both take their pooled odds, 0.09 / 0.07.
        assert!((w[4] - w[5]).abs() < 1e-9, "{w:?}");
        assert!((w[4] - log2(0.09 / 0.07)).abs() < 1e-9, "{w:?}");
        // Total disagreement counts against a match.
        assert!(w[6] <= -2.0, "{w:?}");
    }

    #[test]
    fn titles_initials_swaps_and_placeholder_dates() {
        assert_eq!(clean_name("Sir  Thomas"), "thomas");
        assert_eq!(clean_name("1st Baronet"), "");
        let prep = |g: &str, f: &str| prepare(&p("x", g, f, 2014, 3, 2));
        // "W." is William's initial, not another name.
        let (w, william, h) = (
            prep("W.", "Kerr"),
            prep("William", "Kerr"),
            prep("H.", "Kerr"),
        );
        assert_eq!(compare(&w, &william)[GIVEN], Some(3));
        assert_eq!(compare(&h, &william)[GIVEN], Some(4));
        // Family name written as the given name, the other name different.
        let v = compare(&prep("Crook", "Channing"), &prep("Bethany", "Crook"));
        assert_eq!(v[FAMILY], Some(1), "{v:?}");
        assert_eq!(v[GIVEN], Some(4), "{v:?}");
        // 1 January stands for "the year only".
        let jan = BirthParts {
            year: Some(1855),
            month: Some(1),
            day: Some(1),
            ..Default::default()
        };
        let later = BirthParts {
            year: Some(1855),
            month: Some(8),
            day: Some(6),
            ..Default::default()
        };
        assert_eq!(birth_level(&jan, &later), Some(3));
        assert_eq!(birth_level(&jan, &jan), Some(0));
    }

    #[test]
    fn one_to_one_keeps_the_better_match() {
        let pair = |a, b, probability| Pair { a, b, probability };
        let kept = one_to_one(vec![pair(0, 2, 0.7), pair(0, 3, 0.9), pair(1, 3, 0.8)], 4);
        let got: Vec<(usize, usize)> = kept.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(got, vec![(0, 3)]);
    }

    #[test]
    fn dedupe_groups_a_person_without_swallowing_look_alikes() {
        let mut people = vec![
            p("a", "Jacobo", "Vaingarten", 2014, 3, 2),
            p("b", "Yaakov", "Weingarten", 2014, 3, 2),
            p("c", "Jacobo", "Vaingarten", 2014, 2, 3),
        ];
        for i in 0..200 {
            people.push(p(
                &format!("x{i}"),
                ["Sara", "Leah", "Chaim", "Dovid", "Esther"][i % 5],
                ["Rosen", "Klein", "Stern", "Katz", "Roth", "Gold", "Weiss"][i % 7],
                2000 + (i % 17) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            ));
        }
        let l = dedupe(&people, 0.5);
        let ids: Vec<(&str, &str)> = l
            .pairs
            .iter()
            .map(|x| (people[x.a].id.as_str(), people[x.b].id.as_str()))
            .collect();
        for want in [("a", "b"), ("a", "c"), ("b", "c")] {
            assert!(ids.contains(&want), "{want:?} missing from {ids:?}");
        }
        assert!(
            ids.iter()
                .all(|(x, y)| !x.starts_with('x') || !["a", "b", "c"].contains(y)),
            "{ids:?}"
        );
        assert!(l.pairs.iter().all(|x| x.probability >= 0.5));
    }

    #[test]
    fn clusters_join_chains() {
        let pairs = vec![
            Pair {
                a: 0,
                b: 1,
                probability: 0.9,
            },
            Pair {
                a: 1,
                b: 2,
                probability: 0.9,
            },
        ];
        let c = clusters(4, &pairs);
        assert_eq!(c[0], c[2]);
        assert_ne!(c[0], c[3]);
    }
}

/// m for tracing: among true matches, how often each level is seen. Names: the same
/// spelling or a known variant most of the time. Birth: requesters often know only
/// the year or an age, so agreeing on the year (level 3) is common for true matches.
const TRACING_M: [&[f64]; FIELDS] = [
    &[0.55, 0.25, 0.12, 0.06, 0.02],
    &[0.60, 0.22, 0.10, 0.06, 0.02],
    &[0.30, 0.10, 0.10, 0.30, 0.15, 0.03, 0.02],
    &[0.97, 0.03],
];

/// Typical chance agreement between two different children of one operation.
const TRACING_U: [&[f64]; FIELDS] = [
    &[0.02, 0.01, 0.03, 0.10, 0.84],
    &[0.02, 0.01, 0.03, 0.10, 0.84],
    &[0.002, 0.005, 0.02, 0.08, 0.25, 0.40, 0.243],
    &[0.5, 0.5],
];

/// Candidates for one person sought (a tracing request) among `pool`, best first, with
/// each explanation. The model is fitted on the pool and the query together, so its
/// weights reflect how common names and birth years are among these children.
pub fn rank(query: &Person, pool: &[Person], threshold: f64) -> Vec<(usize, f64, Explanation)> {
    let mut people = Vec::with_capacity(pool.len() + 1);
    people.push(query.clone());
    people.extend(pool.iter().cloned());
    let linkage = link(&people, Some(1), 0.0);
    // One query teaches nothing about m (how true matches differ: data quality), so m
    // is the typical one below; u (chance agreement) comes from these children. The
    // sought child is at most one of them: the prior is one in the pool's size.
    // u from a small pool is noise: blend it with typical chance agreement, more of
    // the pool's own the more pairs it has.
    let n = people.len() as f64;
    let pairs = (n * (n - 1.0) / 2.0).min(200_000.0);
    let own = pairs / (pairs + 500.0);
    let mut u = linkage.model.u.clone();
    for (f, levels) in u.iter_mut().enumerate() {
        for (l, x) in levels.iter_mut().enumerate() {
            *x = own * *x + (1.0 - own) * TRACING_U[f][l];
        }
    }
    let model = Model {
        m: TRACING_M.map(|l| l.to_vec()),
        u,
        prior: (1.0 / pool.len().max(1) as f64).clamp(1e-4, 0.5),
    };
    let mut out: Vec<(usize, f64, Explanation)> = linkage
        .pairs
        .iter()
        .filter(|p| p.a == 0 && p.b >= 1)
        .map(|p| {
            let e = explain(&model, query, &people[p.b]);
            let probability = 1.0 / (1.0 + 2f64.powf(-e.total));
            (p.b - 1, probability, e)
        })
        .filter(|(_, probability, _)| *probability >= threshold)
        .collect();
    out.sort_by(|x, y| y.1.partial_cmp(&x.1).unwrap_or(std::cmp::Ordering::Equal));
    out
}

#[cfg(test)]
mod rank_tests {
    use super::*;

    fn person(id: &str, given: &str, family: &str, sex: char, year: i32) -> Person {
        Person {
            id: id.into(),
            given: given.into(),
            family: family.into(),
            other_names: vec![],
            sex: Some(sex),
            birth: BirthParts {
                year: Some(year),
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_sought_child_ranks_first_across_spellings() {
        let pool = vec![
            person("1", "Jacobo", "Vaingarten", 'm', 2014),
            person("2", "Rivka", "Vaingarten", 'f', 2015),
            person("3", "Moises", "Friedman", 'm', 2014),
            person("4", "Jana", "Levi", 'f', 2012),
            person("5", "Jacobo", "Testman", 'm', 2016),
            person("6", "Shloime", "Weiss", 'm', 2013),
        ];
        let query = person("q", "Yankel", "Weingarten", 'm', 2014);
        let ranked = rank(&query, &pool, 0.0);
        assert!(!ranked.is_empty());
        assert_eq!(
            pool[ranked[0].0].id,
            "1",
            "{:?}",
            ranked.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>()
        );
        assert!(
            ranked[0].1 > 0.5,
            "{} {:?}",
            ranked[0].1,
            ranked[0].2.levels
        );
        let sister = ranked
            .iter()
            .find(|r| pool[r.0].id == "2")
            .map(|r| r.1)
            .unwrap_or(0.0);
        assert!(sister < ranked[0].1);
    }
}

#[cfg(test)]
mod jaro_winkler_tests {
    use super::{hashed_bm, jaro_winkler, jaro_winkler_bound, shares};
    use proptest::prelude::*;

    #[test]
    fn same_as_strsim_on_names() {
        for (a, b) in [
            ("martha", "marhta"),
            ("dwayne", "duane"),
            ("dixon", "dicksonx"),
            ("", ""),
            ("a", ""),
            ("weingarten", "vaingarten"),
            ("jacob", "yaakov"),
        ] {
            assert_eq!(jaro_winkler(a, b), strsim::jaro_winkler(a, b), "{a} {b}");
        }
    }

    proptest! {
        #[test]
        fn same_as_strsim_on_any_input(a in "[a-e]{0,12}|[ -~]{0,70}|\\PC{0,20}", b in "[a-e]{0,12}|[ -~]{0,70}|\\PC{0,20}") {
            prop_assert_eq!(jaro_winkler(&a, &b), strsim::jaro_winkler(&a, &b));
        }

        #[test]
        fn bound_is_never_below(a in "[a-e]{0,12}|[a-z]{0,10}|[ -~]{0,70}|\\PC{0,20}", b in "[a-e]{0,12}|[a-z]{0,10}|[ -~]{0,70}|\\PC{0,20}") {
            let (jw, bound) = (jaro_winkler(&a, &b), jaro_winkler_bound(&a, &b));
            prop_assert!(bound + 1e-12 >= jw, "{} {}: {} > {}", a, b, jw, bound);
        }

        /// The signature only ever settles pairs that share no code.
        #[test]
        fn the_signature_never_hides_a_shared_sound(a in "[a-z]{1,10}", b in "[a-z]{1,10}") {
            let (x, y) = (hashed_bm(&a), hashed_bm(&b));
            let truly = x.codes.iter().any(|c| y.codes.contains(c));
            prop_assert_eq!(shares(&x, &y), truly, "{} {}", a, b);
        }
    }
}
