//! `cris-server export`: a table of forms, as the overview downloads it, to a file.

use std::path::PathBuf;

use cris_server::FormCatalog;
use cris_server::store::DEFAULT_DATABASE_URL;

use super::*;

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The supervisor or admin the export is made as: the rows are of their teams' cases, and
    /// the export is recorded under their account.
    #[arg(long = "as", value_name = "LOGIN")]
    login: String,
    /// csv (one table of one form) or xlsx (a workbook with a sheet for every table).
    #[arg(long, value_enum)]
    format: ExportFormatArg,
    /// A form's id, e.g. home_visit (every form unless told; a CSV file needs one).
    #[arg(long)]
    form: Option<String>,
    /// For csv: a repeat group of the form, e.g. new_steps (the form's own table unless told).
    #[arg(long)]
    table: Option<String>,
    /// Only the submissions of this team's cases.
    #[arg(long)]
    team: Option<String>,
    /// Only the submissions of this worker (a login).
    #[arg(long)]
    worker: Option<String>,
    /// Received on or after this day (YYYY-MM-DD, on the agency's clocks).
    #[arg(long)]
    from: Option<cris_core::Date>,
    /// Received on or before this day (YYYY-MM-DD, on the agency's clocks).
    #[arg(long)]
    to: Option<cris_core::Date>,
    /// Headings, choices and sheet names in de, tr, bg, en, hu or sk (de unless told).
    #[arg(long)]
    lang: Option<cris_core::Lang>,
    /// For csv: comma or semicolon (as the spreadsheets of the language read it unless told).
    #[arg(long, value_enum)]
    delimiter: Option<DelimiterArg>,
    /// The fields marked sensitive (health) too, for an admin; left out unless asked for.
    #[arg(long)]
    sensitive: bool,
    /// The file to write, readable by its owner only; one already there is replaced only
    /// with --force.
    #[arg(long)]
    out: PathBuf,
    /// Replace the file --out names if it exists.
    #[arg(long)]
    force: bool,
    /// The agency's time zone, as `serve` has it (the times shown and the days of --from and
    /// --to are on its clocks).
    #[arg(long, env = "CRIS_TIME_ZONE", default_value_t = cris_server::TimeZone::BERLIN)]
    time_zone: cris_server::TimeZone,
    /// The forms the server hands out, as `serve` has them (the built-in ones unless told);
    /// their earlier versions are read from the store.
    #[arg(long, env = "CRIS_FORMS_DIR")]
    forms_dir: Option<PathBuf>,
    /// The case store, e.g. sqlite://data/cris.db or postgres://user@host/cris.
    #[arg(long, env = "CRIS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum ExportFormatArg {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum DelimiterArg {
    Comma,
    Semicolon,
}

pub(crate) async fn export(args: ExportArgs) -> Result<(), String> {
    use cris_core::api::{CsvDelimiter, ExportFormat, ExportQuery};
    use cris_server::export::{self, ExportError, Exporter, OutFile, Plan};

    let forms = match &args.forms_dir {
        Some(dir) => FormCatalog::from_dir(dir),
        None => FormCatalog::embedded(),
    }
    .map_err(|err| err.to_string())?;
    let query = ExportQuery {
        format: Some(match args.format {
            ExportFormatArg::Csv => ExportFormat::Csv,
            ExportFormatArg::Xlsx => ExportFormat::Xlsx,
        }),
        form: args.form,
        table: args.table,
        team: args.team,
        worker: args.worker,
        from: args.from,
        to: args.to,
        lang: args.lang,
        delimiter: args.delimiter.map(|d| match d {
            DelimiterArg::Comma => CsvDelimiter::Comma,
            DelimiterArg::Semicolon => CsvDelimiter::Semicolon,
        }),
        sensitive: args.sensitive,
    };
    let login = args.login;
    let refused = |e: ExportError| match e {
        ExportError::NotAllowed => format!("{login} is a worker: {e}"),
        ExportError::Disabled => format!("{login} is disabled: {e}"),
        e => e.to_string(),
    };
    let store = open_existing(&args.database_url, false).await?;
    let exported = async {
        let forms = forms.held_in(&store).await.map_err(|e| e.to_string())?;
        let users = store.users().await.map_err(|e| e.to_string())?;
        let user = users
            .iter()
            .find(|u| u.login == login)
            .ok_or_else(|| format!("no account {login:?}"))?;
        // As over HTTP: a worker is refused before the query is read.
        export::may_export(user).map_err(refused)?;
        let plan = Plan::of(query, &forms, args.time_zone).map_err(refused)?;
        // Started before the export is made: a file that cannot be written records nothing.
        let out = OutFile::create(&args.out, args.force).map_err(|e| match e {
            export::FileError::Exists(_) => {
                format!("{e}: give another --out, or --force to replace it")
            }
            e => e.to_string(),
        })?;
        let by = Exporter {
            user,
            device_id: None,
            address: None,
            endpoint: "cris-server export",
        };
        let exported = export::run(&store, &forms, args.time_zone, &by, plan)
            .await
            .map_err(refused)?;
        out.finish(&exported.bytes).map_err(|e| e.to_string())?;
        Ok::<_, String>(exported)
    }
    .await;
    store.close().await;
    let exported = exported?;
    let plural = |n: i64, one: &str, more: &str| format!("{n} {}", if n == 1 { one } else { more });
    println!(
        "wrote {} of {} to {} (export {})",
        plural(exported.rows, "row", "rows"),
        plural(exported.cases, "household", "households"),
        args.out.display(),
        exported.id
    );
    Ok(())
}
