//! Writing cells: a CSV file's rows in the separator and decimal mark of a language's
//! spreadsheets, a workbook's rows with dates as dates, and the names of its sheets.

use std::borrow::Cow;
use std::collections::HashSet;

use cris_core::api::CsvDelimiter;
use cris_core::lang::Lang;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::{Cell, formula_like};

/// Characters in a cell of a workbook (Excel's limit): a longer text is cut.
const CELL_CHARS: usize = 32_767;
/// Characters in a sheet's name (Excel's limit).
const SHEET_NAME_CHARS: usize = 31;
/// Column widths, in characters: a column is as wide as its widest value, within these.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// The number formats of dates and times in a workbook: ISO 8601, as the CSV files write them.
const MOMENT_FORMAT: &str = "yyyy-mm-dd hh:mm";
const DAY_FORMAT: &str = "yyyy-mm-dd";
const CLOCK_FORMAT: &str = "hh:mm";

/// How a CSV file separates its fields and writes the decimals of its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvStyle {
    pub separator: u8,
    pub decimal_mark: u8,
}

impl CsvStyle {
    /// As spreadsheets in English read a file: `3.5,Yes`.
    pub const COMMA: CsvStyle = CsvStyle {
        separator: b',',
        decimal_mark: b'.',
    };
    /// As spreadsheets in German, Hungarian, Slovak, Bulgarian and Turkish read a file opened
    /// with a double click (their decimal mark is the comma): `3,5;Ja`.
    pub const SEMICOLON: CsvStyle = CsvStyle {
        separator: b';',
        decimal_mark: b',',
    };

    /// The style of the spreadsheets of `lang`.
    pub fn of(lang: Lang) -> CsvStyle {
        match lang {
            Lang::En => CsvStyle::COMMA,
            Lang::De | Lang::Tr | Lang::Bg | Lang::Hu | Lang::Sk => CsvStyle::SEMICOLON,
        }
    }

    /// The style of a separator asked for: the decimal mark goes with it.
    pub fn with(delimiter: CsvDelimiter) -> CsvStyle {
        match delimiter {
            CsvDelimiter::Comma => CsvStyle::COMMA,
            CsvDelimiter::Semicolon => CsvStyle::SEMICOLON,
        }
    }
}

/// A workbook's sheet, as it fills.
#[derive(Debug)]
pub(super) struct Sheet {
    /// Its place in the workbook.
    index: usize,
    /// Rows written, the heading included.
    rows: u32,
    /// The widest value of each column so far, in characters (up to [`MAX_WIDTH`]).
    widths: Vec<usize>,
}

impl Sheet {
    /// Adds the `index`-th sheet to the workbook, named `name`, with its headings (bold, kept
    /// in view while scrolling). Its rows go to an unlinked temporary file as they are
    /// written, so that a large export is not kept in memory cell by cell.
    pub(super) fn add(
        workbook: &mut Workbook,
        index: usize,
        name: &str,
        headings: &[String],
    ) -> Result<Sheet, XlsxError> {
        let bold = Format::new().set_bold();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        for (col, heading) in headings.iter().enumerate() {
            sheet.write_string_with_format(0, col_num(col)?, heading, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(Sheet {
            index,
            rows: 1,
            widths: headings.iter().map(|h| width_of(h)).collect(),
        })
    }

    /// Rows written, the heading included.
    pub(super) fn rows(&self) -> u32 {
        self.rows
    }

    /// Makes each column as wide as its widest value, within [`MIN_WIDTH`] and [`MAX_WIDTH`].
    pub(super) fn fit(&self, workbook: &mut Workbook) -> Result<(), XlsxError> {
        let ws = workbook.worksheet_from_index(self.index)?;
        for (col, width) in self.widths.iter().enumerate() {
            let width = (width + 2).clamp(MIN_WIDTH, MAX_WIDTH);
            ws.set_column_width(col_num(col)?, width as f64)?;
        }
        Ok(())
    }
}

/// The number formats of a workbook's dates and times.
pub(super) struct DateFormats {
    moment: Format,
    day: Format,
    clock: Format,
}

impl DateFormats {
    pub(super) fn new() -> DateFormats {
        DateFormats {
            moment: Format::new().set_num_format(MOMENT_FORMAT),
            day: Format::new().set_num_format(DAY_FORMAT),
            clock: Format::new().set_num_format(CLOCK_FORMAT),
        }
    }
}

/// Appends a row to a CSV file in `style`: a field with the separator, a quote or a line
/// break is quoted (its quotes doubled); a text a spreadsheet would take for a formula gets a
/// `'` first; a number gets the style's decimal mark; dates and times are ISO 8601.
pub fn csv_row(out: &mut Vec<u8>, cells: &[Cell], style: CsvStyle) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(style.separator);
        }
        let text = text_of(cell, style);
        let guard = matches!(cell, Cell::Text(t) if formula_like(t));
        let quote = text
            .bytes()
            .any(|b| b == style.separator || matches!(b, b'"' | b'\r' | b'\n'));
        if quote {
            out.push(b'"');
        }
        if guard {
            out.push(b'\'');
        }
        if quote {
            // Quotes are single bytes in UTF-8: doubling them byte by byte keeps the rest.
            for b in text.bytes() {
                out.push(b);
                if b == b'"' {
                    out.push(b'"');
                }
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// A cell as a CSV file writes it in `style`.
fn text_of<'c>(cell: &'c Cell, style: CsvStyle) -> Cow<'c, str> {
    match cell {
        Cell::Text(t) => Cow::Borrowed(t.as_ref()),
        Cell::Number(n) if style.decimal_mark != b'.' && n.contains('.') => {
            Cow::Owned(n.replace('.', &char::from(style.decimal_mark).to_string()))
        }
        Cell::Number(n) => Cow::Borrowed(n.as_ref()),
        Cell::Moment(at) => Cow::Owned(at.to_string()),
        Cell::Day(day) => Cow::Owned(day.to_string()),
        Cell::Clock(minutes) => Cow::Owned(format!("{:02}:{:02}", minutes / 60, minutes % 60)),
    }
}

/// The date of a cell that holds one, as a workbook keeps it, and its format; `None` for
/// other cells and for dates a workbook cannot hold (before 1900, after 9999).
fn excel_date<'f>(cell: &Cell, formats: &'f DateFormats) -> Option<(ExcelDateTime, &'f Format)> {
    match cell {
        Cell::Moment(at) => {
            let dt = ExcelDateTime::from_timestamp(at.0.div_euclid(1000)).ok()?;
            Some((dt, &formats.moment))
        }
        Cell::Day(day) => {
            let (y, m, d) = day.ymd();
            let dt = ExcelDateTime::from_ymd(
                u16::try_from(y).ok()?,
                u8::try_from(m).ok()?,
                u8::try_from(d).ok()?,
            )
            .ok()?;
            Some((dt, &formats.day))
        }
        Cell::Clock(minutes) => {
            let (h, m) = (minutes / 60, minutes % 60);
            let dt =
                ExcelDateTime::from_hms(u16::try_from(h).ok()?, u8::try_from(m).ok()?, 0).ok()?;
            Some((dt, &formats.clock))
        }
        Cell::Text(_) | Cell::Number(_) => None,
    }
}

/// Appends a row to a sheet: strings always as strings (never formulas), numbers as numbers,
/// dates and times as dates with their formats.
pub(super) fn xlsx_row(
    workbook: &mut Workbook,
    sheet: &mut Sheet,
    cells: &[Cell],
    formats: &DateFormats,
) -> Result<(), XlsxError> {
    let ws = workbook.worksheet_from_index(sheet.index)?;
    let row = sheet.rows;
    for (i, cell) in cells.iter().enumerate() {
        let col = col_num(i)?;
        if let Some((date, format)) = excel_date(cell, formats) {
            ws.write_datetime_with_format(row, col, date, format)?;
            let width = match cell {
                Cell::Moment(_) => MOMENT_FORMAT.len(),
                Cell::Day(_) => DAY_FORMAT.len(),
                _ => CLOCK_FORMAT.len(),
            };
            sheet.widths[i] = sheet.widths[i].max(width);
            continue;
        }
        if let Cell::Number(n) = cell
            && let Ok(number) = n.parse::<f64>()
            && number.is_finite()
        {
            ws.write_number(row, col, number)?;
            sheet.widths[i] = sheet.widths[i].max(n.len().min(MAX_WIDTH));
            continue;
        }
        // Text, and a date a workbook cannot hold as the CSV file writes it.
        let text = text_of(cell, CsvStyle::COMMA);
        let text = text.as_ref();
        if text.is_empty() {
            continue;
        }
        let text = match text.char_indices().nth(CELL_CHARS) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        ws.write_string(row, col, text)?;
        sheet.widths[i] = sheet.widths[i].max(width_of(text));
    }
    sheet.rows += 1;
    Ok(())
}

/// How wide a text shows, in characters, up to [`MAX_WIDTH`]: its longest line.
fn width_of(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().take(MAX_WIDTH).count())
        .max()
        .unwrap_or(0)
}

fn col_num(col: usize) -> Result<u16, XlsxError> {
    u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Names for sheets, one for each wanted name (a form's title): characters Excel does not
/// allow in a sheet's name (`[]:*?/\`) replaced, cut to its 31 characters (UTF-16 units, as
/// Excel counts them) with `…` at the end where cut, and told apart (Excel ignores case) by a
/// number at the end where two are the same.
pub fn sheet_names(wanted: &[String]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    wanted
        .iter()
        .map(|name| {
            let clean: String = name
                .chars()
                .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
                .collect();
            let clean = clean.trim().trim_matches('\'');
            // "History" is reserved by English versions of Excel.
            let clean = match clean {
                "" => "Sheet",
                reserved if reserved.eq_ignore_ascii_case("history") => "History_",
                other => other,
            };
            // The name cut to `n` units, with … where it was cut.
            let cut = |n: usize| {
                if clean.encode_utf16().count() <= n {
                    return clean.to_owned();
                }
                let mut out = String::new();
                let mut units = 1;
                for c in clean.chars() {
                    units += c.len_utf16();
                    if units > n {
                        break;
                    }
                    out.push(c);
                }
                let out = out.trim_end().trim_end_matches('\'');
                format!("{out}…")
            };
            let mut candidate = cut(SHEET_NAME_CHARS);
            let mut n = 1;
            while taken.contains(&candidate.to_lowercase()) {
                n += 1;
                let suffix = format!("~{n}");
                candidate = cut(SHEET_NAME_CHARS - suffix.len()) + &suffix;
            }
            taken.insert(candidate.to_lowercase());
            candidate
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time_zone::LocalTime;
    use cris_core::Date;

    #[test]
    fn csv_quotes_what_needs_it_and_neutralises_formulas() {
        let lines = |style| {
            let mut out = Vec::new();
            csv_row(&mut out, &CELLS, style);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            lines(CsvStyle::COMMA),
            "plain,\"a, b\",a; b,\"sie sagte \"\"nein\"\"\nund ging\",\"'=HYPERLINK(\"\"x\"\")\",'@SUM(A1),-5,'- Punkt,'\tx,-3.5,12,,2026-12-06 14:05,2026-12-04,09:05\r\n"
        );
        // A semicolon quotes a field with one, a comma does not need it; decimals by comma.
        assert_eq!(
            lines(CsvStyle::SEMICOLON),
            "plain;a, b;\"a; b\";\"sie sagte \"\"nein\"\"\nund ging\";\"'=HYPERLINK(\"\"x\"\")\";'@SUM(A1);-5;'- Punkt;'\tx;-3,5;12;;2026-12-06 14:05;2026-12-04;09:05\r\n"
        );
    }

    const CELLS: [Cell<'static>; 15] = [
        Cell::Text(Cow::Borrowed("plain")),
        Cell::Text(Cow::Borrowed("a, b")),
        Cell::Text(Cow::Borrowed("a; b")),
        Cell::Text(Cow::Borrowed("sie sagte \"nein\"\nund ging")),
        Cell::Text(Cow::Borrowed("=HYPERLINK(\"x\")")),
        Cell::Text(Cow::Borrowed("@SUM(A1)")),
        Cell::Text(Cow::Borrowed("-5")),
        Cell::Text(Cow::Borrowed("- Punkt")),
        Cell::Text(Cow::Borrowed("\tx")),
        Cell::Number(Cow::Borrowed("-3.5")),
        Cell::Number(Cow::Borrowed("12")),
        Cell::Text(Cow::Borrowed("")),
        // 2026-12-06 14:05 on the agency's clocks.
        Cell::Moment(LocalTime(1_796_565_900_000)),
        Cell::Day(Date::from_days(20_791)),
        Cell::Clock(9 * 60 + 5),
    ];

    #[test]
    fn the_separator_is_the_one_of_the_languages_spreadsheets() {
        assert_eq!(CsvStyle::of(Lang::En), CsvStyle::COMMA);
        for lang in [Lang::De, Lang::Hu, Lang::Sk, Lang::Bg, Lang::Tr] {
            assert_eq!(CsvStyle::of(lang), CsvStyle::SEMICOLON, "{lang:?}");
        }
        assert_eq!(CsvStyle::with(CsvDelimiter::Comma), CsvStyle::COMMA);
        assert_eq!(CsvStyle::with(CsvDelimiter::Semicolon), CsvStyle::SEMICOLON);
    }

    #[test]
    fn sheet_names_fit_excel_and_stay_apart() {
        let wanted = [
            "Hausbesuch".to_owned(),
            "Hausbesuch – Schulpflichtiges Kind".to_owned(),
            "Hausbesuch – Schulpflichtiges Kind (alt)".to_owned(),
            "HAUSBESUCH".to_owned(),
            "Plan [2026]: Ziele / Wege?".to_owned(),
            "'Zitat'".to_owned(),
            "history".to_owned(),
            "Ev ziyareti – Okul çağındaki çocuk".to_owned(),
            // Outside the BMP: two UTF-16 units each, as Excel counts.
            "🏠".repeat(20),
        ];
        let names = sheet_names(&wanted);
        assert_eq!(
            names,
            [
                "Hausbesuch",
                "Hausbesuch – Schulpflichtiges…",
                "Hausbesuch – Schulpflichtige…~2",
                "HAUSBESUCH~2",
                "Plan _2026__ Ziele _ Wege_",
                "Zitat",
                "History_",
                "Ev ziyareti – Okul çağındaki ç…",
                format!("{}…", "🏠".repeat(15)).as_str(),
            ]
        );
        for name in &names {
            rust_xlsxwriter::utility::check_sheet_name(name).unwrap();
        }
    }
}
