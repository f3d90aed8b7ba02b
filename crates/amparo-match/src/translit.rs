//! Hebrew and Yiddish script to Latin letters, close to how the names are said,
//! so that the Latin comparators can work on them.

/// Transliterate Hebrew-script letters; other characters pass through.
pub fn hebrew_to_latin(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| !('\u{0591}'..='\u{05C7}').contains(c))
        .collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let at_start = i == 0 || !is_hebrew(chars[i - 1]);
        // Yiddish digraphs first.
        let two = match (c, next) {
            ('ו', Some('ו')) | ('װ', _) => Some("v"),
            ('י', Some('י')) | ('ײ', _) => Some("ey"),
            ('ו', Some('י')) | ('ױ', _) => Some("oy"),
            ('ט', Some('ש')) => Some("tsh"),
            ('ז', Some('ש')) => Some("zh"),
            ('ד', Some('ז')) => Some("dz"),
            _ => None,
        };
        if let Some(t) = two {
            out.push_str(t);
            i += if matches!(c, 'װ' | 'ײ' | 'ױ') {
                1
            } else {
                2
            };
            continue;
        }
        let t = match c {
            // A word's first alef carries its vowel, most often e ("אפרים" Efraim,
            // "אליעזר" Eliezer, "אסתר" Ester), unless a vowel letter follows and says
            // it ("איציק" Itzik, "אוסטר" Oster).
            'א' => {
                if !at_start {
                    "a"
                } else if matches!(next, Some('ו' | 'י' | 'ע' | 'װ' | 'ױ' | 'ײ')) {
                    ""
                } else {
                    "e"
                }
            }
            'ב' => "b",
            'ג' => "g",
            'ד' => "d",
            'ה' => {
                if next.is_some_and(is_hebrew) {
                    "h"
                } else {
                    "a"
                }
            }
            'ו' => {
                if at_start {
                    "v"
                } else {
                    "o"
                }
            }
            'ז' => "z",
            'ח' => "ch",
            'ט' => "t",
            'י' => {
                if at_start {
                    "y"
                } else {
                    "i"
                }
            }
            'כ' | 'ך' => "ch",
            'ל' => "l",
            'מ' | 'ם' => "m",
            'נ' | 'ן' => "n",
            'ס' => "s",
            'ע' => {
                if at_start {
                    "a"
                } else {
                    "e"
                }
            }
            'פ' => "p",
            'ף' => "f",
            'צ' | 'ץ' => "tz",
            'ק' => "k",
            'ר' => "r",
            'ש' => "sh",
            'ת' => "t",
            '״' | '"' if next.is_some_and(is_hebrew) => "",
            _ => {
                out.push(c);
                i += 1;
                continue;
            }
        };
        out.push_str(t);
        i += 1;
    }
    out
}

fn is_hebrew(c: char) -> bool {
    ('\u{05D0}'..='\u{05EA}').contains(&c) || ('\u{05F0}'..='\u{05F2}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn family_names() {
        assert_eq!(hebrew_to_latin("ווינגארטן"), "vingartn");
        assert_eq!(hebrew_to_latin("Klein"), "Klein");
        assert_eq!(hebrew_to_latin("שווארץ"), "shvartz");
        assert_eq!(hebrew_to_latin("אפרים"), "eprim");
        assert_eq!(hebrew_to_latin("איציק"), "itzik");
    }
}
