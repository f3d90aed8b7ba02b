//! The court case file as PDF: sections of labelled lines, every page footed with
//! the case number, who printed it and when, the audit-chain position at printing,
//! and the page number. Text only, in the PDF base font Helvetica with the Windows
//! Latin-1 encoding, so any PDF reader (and `pdftotext`) reads it without embedded
//! fonts; letters outside Latin-1 (Hebrew script) are shown transliterated.
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

#[derive(Debug, Clone, Default)]
pub struct CaseFile {
    pub title: String,
    pub case_number: String,
    /// "Printed by ana.caseworker on 29/11/2026 10:31 (GT)".
    pub printed: String,
    /// "Audit chain: entry 1234, hash 3f2a…". A court can ask for this entry to be
    /// verified with `amparo audit verify`.
    pub audit_position: String,
    /// "Page {n} of {total}" with the two placeholders.
    pub page_label: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Default)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone)]
pub enum Line {
    /// label: value
    Field(String, String),
    /// A paragraph.
    Text(String),
    /// A sub-heading inside a section (one placement, one allegation).
    Item(String),
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;
const LEADING: f32 = 13.5;
const FOOTER_TOP: f32 = 70.0;

/// One laid-out line: font, size, x, text.
struct Placed {
    bold: bool,
    size: f32,
    x: f32,
    y: f32,
    text: String,
}

/// Approximate Helvetica advance widths (per 1000 em) for wrapping: narrow letters,
/// wide letters and the rest. Wrapping errs on the short side.
fn width(text: &str, size: f32, bold: bool) -> f32 {
    let units: f32 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' | ' ' => 280.0,
            'f' | 't' | 'r' | '(' | ')' | '-' | '/' => 340.0,
            'm' | 'w' | 'M' | 'W' => 850.0,
            c if c.is_uppercase() => 700.0,
            c if c.is_ascii_digit() => 556.0,
            _ => 560.0,
        })
        .sum();
    units / 1000.0 * size * if bold { 1.06 } else { 1.0 }
}

fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max || line.is_empty() {
                line = candidate;
                // A single word longer than the line is cut.
                while width(&line, size, bold) > max && line.chars().count() > 1 {
                    let cut = line.chars().count() * 3 / 4;
                    let head: String = line.chars().take(cut).collect();
                    let tail: String = line.chars().skip(cut).collect();
                    lines.push(head);
                    line = tail;
                }
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_string();
            }
        }
        lines.push(line);
    }
    lines
}

/// Text in WinAnsiEncoding. Hebrew is transliterated; anything else unrepresentable
/// becomes '?'.
pub fn win_ansi(text: &str) -> Vec<u8> {
    let text = if text.chars().any(|c| ('\u{0590}'..='\u{05FF}').contains(&c)) {
        amparo_match::hebrew_to_latin(text)
    } else {
        text.to_string()
    };
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0xB7,
            '–' => 0x96,
            '—' => 0x97,
            '→' => b'>',
            _ => b'?',
        })
        .collect()
}

fn layout(cf: &CaseFile) -> Vec<Vec<Placed>> {
    let max = PAGE_W - 2.0 * MARGIN;
    let mut pages: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut y = PAGE_H - MARGIN;
    let put = |pages: &mut Vec<Vec<Placed>>,
               y: &mut f32,
               bold: bool,
               size: f32,
               x: f32,
               text: String,
               gap: f32| {
        if *y - gap < FOOTER_TOP + 10.0 {
            pages.push(Vec::new());
            *y = PAGE_H - MARGIN;
        }
        *y -= gap;
        if let Some(p) = pages.last_mut() {
            p.push(Placed {
                bold,
                size,
                x,
                y: *y,
                text,
            });
        }
    };
    for (i, l) in wrap(&cf.title, 16.0, true, max).into_iter().enumerate() {
        put(
            &mut pages,
            &mut y,
            true,
            16.0,
            MARGIN,
            l,
            if i == 0 { 0.0 } else { 20.0 },
        );
    }
    put(
        &mut pages,
        &mut y,
        true,
        12.0,
        MARGIN,
        cf.case_number.clone(),
        20.0,
    );
    for s in &cf.sections {
        y -= 10.0;
        put(
            &mut pages,
            &mut y,
            true,
            12.5,
            MARGIN,
            s.heading.clone(),
            18.0,
        );
        for line in &s.lines {
            match line {
                Line::Item(t) => {
                    for (i, w) in wrap(t, BODY, true, max).into_iter().enumerate() {
                        put(
                            &mut pages,
                            &mut y,
                            true,
                            BODY,
                            MARGIN,
                            w,
                            if i == 0 { LEADING + 4.0 } else { LEADING },
                        );
                    }
                }
                Line::Text(t) => {
                    for w in wrap(t, BODY, false, max) {
                        put(&mut pages, &mut y, false, BODY, MARGIN, w, LEADING);
                    }
                }
                Line::Field(label, value) => {
                    let label_w = 150.0;
                    let label_lines = wrap(label, BODY, true, label_w - 8.0);
                    let value_lines = wrap(value, BODY, false, max - label_w);
                    for i in 0..label_lines.len().max(value_lines.len()) {
                        let before = y;
                        if let Some(v) = value_lines.get(i) {
                            put(
                                &mut pages,
                                &mut y,
                                false,
                                BODY,
                                MARGIN + label_w,
                                v.clone(),
                                LEADING,
                            );
                            if let Some(l) = label_lines.get(i) {
                                // Same baseline as the value just placed.
                                if let Some(p) = pages.last_mut() {
                                    p.push(Placed {
                                        bold: true,
                                        size: BODY,
                                        x: MARGIN,
                                        y,
                                        text: l.clone(),
                                    });
                                }
                            }
                        } else if let Some(l) = label_lines.get(i) {
                            put(&mut pages, &mut y, true, BODY, MARGIN, l.clone(), LEADING);
                        }
                        let _ = before;
                    }
                }
            }
        }
    }
    pages
}

/// The PDF bytes.
pub fn render(cf: &CaseFile) -> Vec<u8> {
    let pages = layout(cf);
    let total = pages.len();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let page_ids: Vec<Ref> = (0..total)
        .map(|i| Ref::new(first_page + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(total as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&format!("{} {}", cf.title, cf.case_number)))
        .producer(TextStr("amparo"));
    for (n, placed) in pages.iter().enumerate() {
        let page_id = page_ids[n];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        {
            let mut res = page.resources();
            let mut fonts = res.fonts();
            fonts.pair(Name(b"F1"), regular);
            fonts.pair(Name(b"F2"), bold);
        }
        page.finish();
        let mut c = Content::new();
        for p in placed {
            let bytes = win_ansi(&p.text);
            c.begin_text();
            c.set_font(Name(if p.bold { b"F2" } else { b"F1" }), p.size);
            c.next_line(p.x, p.y);
            c.show(Str(&bytes));
            c.end_text();
        }
        // The footer: a rule, then case number, printer and time, audit position, page.
        c.set_line_width(0.5);
        c.move_to(MARGIN, FOOTER_TOP);
        c.line_to(PAGE_W - MARGIN, FOOTER_TOP);
        c.stroke();
        let page_text = cf
            .page_label
            .replace("{n}", &(n + 1).to_string())
            .replace("{total}", &total.to_string());
        let footer = [
            format!("{} · {}", cf.case_number, page_text),
            cf.printed.clone(),
            cf.audit_position.clone(),
        ];
        for (i, line) in footer.iter().enumerate() {
            let bytes = win_ansi(line);
            c.begin_text();
            c.set_font(Name(b"F1"), 8.0);
            c.next_line(MARGIN, FOOTER_TOP - 12.0 - 10.0 * i as f32);
            c.show(Str(&bytes));
            c.end_text();
        }
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(lines: usize) -> CaseFile {
        CaseFile {
            title: "Expediente del caso".into(),
            case_number: "GT-2026-000042".into(),
            printed: "Impreso por prueba el 29/11/2026 10:31".into(),
            audit_position: "Cadena de auditoría: entrada 77, hash 0123abcd".into(),
            page_label: "Página {n} de {total}".into(),
            sections: vec![Section {
                heading: "Identidad".into(),
                lines: (0..lines)
                    .map(|i| {
                        Line::Field(
                            format!("Campo {i}"),
                            "Jacobo Vaingarten — יעקב ".repeat(1 + i % 5),
                        )
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn a_pdf_with_footers_on_every_page() {
        let bytes = render(&sample(200));
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        let pages = text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count();
        assert!(text.contains("Helvetica"));
        assert!(pages >= 1);
        // Every page's footer names the case number (streams are not compressed; a
        // string with Latin-1 letters is written in hex).
        let hex: String = b"GT-2026-000042"
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let lower = text.to_lowercase();
        let footers = lower.matches(&hex).count();
        assert!(pages >= 2, "{pages}");
        assert!(footers >= pages, "{footers} footers on {pages} pages");
    }

    #[test]
    fn win_ansi_keeps_spanish_and_transliterates_hebrew() {
        assert_eq!(win_ansi("Moisés Ñandú"), b"Mois\xe9s \xd1and\xfa".to_vec());
        let h = win_ansi("יעקב");
        assert!(h.iter().all(|b| b.is_ascii_alphabetic()), "{h:?}");
    }

    #[test]
    fn wrapping_never_loses_words() {
        let text = "uno dos tres cuatro cinco seis siete ocho nueve diez ".repeat(20);
        let lines = wrap(&text, 10.0, false, 200.0);
        assert!(lines.len() > 5);
        assert_eq!(
            lines.join(" ").split_whitespace().count(),
            text.split_whitespace().count()
        );
    }
}
