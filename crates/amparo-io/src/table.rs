//! A spreadsheet read into rows of text, whatever it came as (CSV or XLSX), with the
//! row numbers a person sees in their spreadsheet program (the header is row 1).
use calamine::{Data, Reader};
use std::io::Cursor;

/// Files larger than this are refused before parsing: 10,000 rows of children fit in
/// a few MiB, and a spreadsheet bomb must not take the server's memory.
pub const MAX_FILE: usize = 32 * 1024 * 1024;
/// More rows than this are refused: split the file.
pub const MAX_ROWS: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    /// (spreadsheet row number, cells); blank rows are left out.
    pub rows: Vec<(usize, Vec<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// XLSX files are ZIP archives; anything else is read as CSV text.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// Read a CSV or XLSX file. The error says what is wrong with the file as a whole.
pub fn read(bytes: &[u8]) -> Result<Table, String> {
    if bytes.len() > MAX_FILE {
        return Err(format!(
            "the file is larger than {} MiB: split it into smaller files",
            MAX_FILE / 1024 / 1024
        ));
    }
    let table = match Format::sniff(bytes) {
        Format::Xlsx => read_xlsx(bytes)?,
        Format::Csv => read_csv(bytes)?,
    };
    if table.headers.iter().all(|h| h.trim().is_empty()) {
        return Err("the first row must hold the column names, and it is empty".into());
    }
    Ok(table)
}

/// Where each line of a text starts, to name a record's line as an editor or a
/// spreadsheet counts it. The CSV reader's own line count leaves out blank lines (a
/// row after one blank line was called the line before), so it is worked out from
/// the record's byte offset instead.
pub struct LineIndex<'a> {
    bytes: &'a [u8],
    /// Byte offsets of every '\n'.
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(bytes: &'a [u8]) -> LineIndex<'a> {
        let newlines = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        LineIndex { bytes, newlines }
    }

    /// The 1-based line of the record starting at `byte`, past any blank lines the
    /// reader counted into it.
    pub fn line_at(&self, byte: u64) -> usize {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX);
        while self
            .bytes
            .get(at)
            .is_some_and(|b| matches!(b, b'\n' | b'\r'))
        {
            at += 1;
        }
        self.newlines.partition_point(|&n| n < at) + 1
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, String> {
    let text = decode_text(bytes);
    let delimiter = guess_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let lines = LineIndex::new(text.as_bytes());
    let mut headers = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
            format!("line {line} cannot be read as CSV (an unclosed quote?)")
        })?;
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if headers.is_none() {
            headers = Some(cells);
            continue;
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(format!(
                "the file has more than {MAX_ROWS} rows: split it into smaller files"
            ));
        }
        rows.push((line, cells));
    }
    Ok(Table {
        headers: headers.unwrap_or_default(),
        rows,
    })
}

/// UTF-8 (with or without a byte-order mark), else Windows-1252 as older spreadsheet
/// programs write it: either way no byte is refused.
fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| cp1252(b)).collect(),
    }
}

/// One field's text: UTF-8 when it is, otherwise Windows-1252 (what spreadsheet
/// programs on Spanish-language Windows write), so "López" survives either way.
pub fn decode_field(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| cp1252(b)).collect()),
    }
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// Spanish-language spreadsheet programs write `;`-separated CSV; pick the separator
/// that occurs most in the header line.
pub fn guess_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, String> {
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).map_err(|_| {
            "the file looks like a spreadsheet but cannot be opened: save it again as XLSX or CSV"
                .to_string()
        })?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| "the spreadsheet has no sheets".to_string())?
        .map_err(|_| "the first sheet cannot be read: save it again as XLSX or CSV".to_string())?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut headers = None;
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let mut cells: Vec<String> = std::iter::repeat_n(String::new(), first_col)
            .chain(row.iter().map(cell_text))
            .collect();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if headers.is_none() {
            if cells.is_empty() {
                continue;
            }
            headers = Some(cells);
            continue;
        }
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(format!(
                "the file has more than {MAX_ROWS} rows: split it into smaller files"
            ));
        }
        rows.push((first_row + i + 1, cells));
    }
    Ok(Table {
        headers: headers.unwrap_or_default(),
        rows,
    })
}

/// A cell as the person typed it: whole numbers without ".0", dates as YYYY-MM-DD.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|dt| dt.date().format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) => s.split('T').next().unwrap_or("").to_string(),
        Data::DurationIso(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_semicolons_and_blank_rows() {
        let t = read("\u{feff}nombre;apellido\nAna;Pérez\n\n;\nLuis;Gómez\n".as_bytes()).unwrap();
        assert_eq!(t.headers, vec!["nombre", "apellido"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].0, 2);
        assert_eq!(
            t.rows[1],
            (5, vec!["Luis".to_string(), "Gómez".to_string()])
        );
    }

    #[test]
    fn rows_after_blank_lines_keep_their_line_numbers() {
        let t = read(b"nombre\nAna\n\nLuis\n\n\r\n\nEva\n\"Jos\n\xe9\"\nSol\n").unwrap();
        let lines: Vec<usize> = t.rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![2, 4, 8, 9, 11]);
    }

    #[test]
    fn windows_1252_text_is_read() {
        let t = read(b"nombre\nJos\xe9\n").unwrap();
        assert_eq!(t.rows[0].1[0], "José");
    }

    #[test]
    fn a_broken_zip_is_a_clear_error() {
        let e = read(b"PK\x03\x04garbage").unwrap_err();
        assert!(e.contains("cannot be opened"), "{e}");
    }

    #[test]
    fn xlsx_written_by_us_reads_back() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "nombre").unwrap();
        sheet.write_string(0, 1, "edad").unwrap();
        sheet.write_string(1, 0, "Ana").unwrap();
        sheet.write_number(1, 1, 7.0).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let t = read(&bytes).unwrap();
        assert_eq!(t.headers, vec!["nombre", "edad"]);
        assert_eq!(t.rows, vec![(2, vec!["Ana".to_string(), "7".to_string()])]);
    }
}
