//! The amparo binary: serve, demo, user, token, audit, migrate, backup.
#![forbid(unsafe_code)]

mod demo;
mod import;
mod link;
mod pprl;

use amparo_domain::policy::Role;
use amparo_store::{NewUser, Store, VerifyReport};
use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::net::TcpListener;
use uuid::Uuid;

/// mimalloc hands freed memory back to the system; with the default allocator the
/// server kept the peak of its largest import (1.6 GiB after bringing in 200,000
/// children) for as long as it ran.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "amparo",
    version,
    about = "Case management for child protection in a mass protective operation"
)]
struct Cli {
    /// Where amparo keeps its SQLite database and files.
    #[arg(long, global = true, default_value = "./amparo-data")]
    data_dir: PathBuf,
    /// Database to use instead of the SQLite file in the data directory,
    /// e.g. postgres://user@host/amparo.
    #[arg(long, global = true, env = "AMPARO_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (creates the data directory and an admin account on first start).
    Serve(ServeArgs),
    /// Start the server with the demo operation loaded (invented people).
    Demo(ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Find the same person across person CSV files (id, given_name, family_name,
    /// other_names, sex, birth_date, age, recorded_on, country, place; the usual other
    /// names are recognised too: surname, first_name, dob, gender, apellidos, fecha de
    /// nacimiento, edad...; one whole-name column such as "Nombre completo" is split).
    /// Fields may be separated by `,`, `;` or tabs, text UTF-8 or
    /// Windows-1252; birth_date is YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY,
    /// a time after it ignored; an age without recorded_on is an age this year; without
    /// an id column each row is known by its line number.
    Link {
        /// The people to deduplicate, or the first list.
        #[arg(long)]
        input: PathBuf,
        /// A second list to link against the first.
        #[arg(long)]
        against: Option<PathBuf>,
        /// Where to write id_a,id_b,probability.
        #[arg(long)]
        output: PathBuf,
        /// Smallest match probability written (0 to 1).
        #[arg(long, default_value_t = 0.5)]
        threshold: f64,
        /// Also write id,cluster: records grouped into people.
        #[arg(long)]
        clusters: Option<PathBuf>,
        /// Rename a column: SOURCE=DEST (repeatable), e.g. surname=family_name.
        #[arg(long = "map")]
        map: Vec<String>,
        /// With --against: keep every pair above the threshold, even when a record
        /// then links to several of the other list (by default each record links to
        /// its most probable counterpart only).
        #[arg(long)]
        many_to_many: bool,
    },
    /// Bring records in from a spreadsheet.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Privacy-preserving linkage between agencies: encode people into Bloom filters
    /// with a shared secret, then match encodings by Dice similarity.
    #[command(subcommand)]
    Pprl(PprlCommand),
    /// Referral packages to and from partner agencies, as files.
    #[command(subcommand)]
    Referral(ReferralCommand),
    /// Partner agencies abroad, for referral packages.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Make a consistent backup (database and files) while the server runs (SQLite;
    /// on PostgreSQL use pg_dump, see docs/OPERATIONS.md).
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
        /// Encrypt with a passphrase (read from --passphrase-file, else from the
        /// first line of standard input).
        #[arg(long)]
        encrypt: bool,
        /// A file whose first line is the passphrase.
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup into a new, empty data directory (given with --data-dir),
    /// then verify the audit chain.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// For an encrypted backup: a file whose first line is the passphrase (else it
        /// is read from standard input).
        #[arg(long)]
        passphrase_file: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Mark cookies Secure (set this when amparo is reached over HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// Name of the agency the first admin account belongs to.
    #[arg(long, default_value = "Local agency")]
    agency: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, caseworker, shelter_staff, investigator or partner (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The user's agency (created if it does not exist).
        #[arg(long)]
        agency: String,
        /// Facility a shelter_staff user works at (repeatable); with none they see no child.
        #[arg(long = "facility")]
        facilities: Vec<Uuid>,
        /// Interface language: es or en.
        #[arg(long, default_value = "es")]
        language: String,
    },
    /// Set a user's password, read from standard input.
    Passwd {
        #[arg(long)]
        username: String,
    },
    /// Remove a user's second factor (a lost or replaced phone): at their next
    /// sign-in they enrol a new one.
    SecondFactor {
        #[arg(long)]
        username: String,
        /// Required: says what this does.
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Children of an operation from a CSV or XLSX file (columns such as nombre,
    /// apellido, fecha_nacimiento, edad, sexo, pulsera, idioma, or their English names).
    /// Every row is checked first; with any problem nothing is imported.
    Children {
        /// The operation the children were taken into care in.
        #[arg(long)]
        operation: Uuid,
        /// The .csv or .xlsx file.
        file: PathBuf,
        /// A column that is not recognised by name: COLUMN=FIELD (repeatable), fields
        /// are wristband, given_name, family_name, other_names, sex, birth_date, age,
        /// languages, nationality.
        #[arg(long = "map")]
        map: Vec<String>,
        /// Check every row and report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the good rows even if others have problems.
        #[arg(long, requires = "rejected")]
        good_rows: bool,
        /// With --good-rows: where to write the rows left out, with their problems.
        #[arg(long)]
        rejected: Option<PathBuf>,
        /// The user the import is recorded as (default: the console operator).
        #[arg(long = "as")]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
enum ReferralCommand {
    /// Seal a tracing request, or chosen sections of a child's case, for one partner.
    Export {
        /// The user the package is sent as (their role and scope apply).
        #[arg(long = "as")]
        user: String,
        /// The partner's name as registered.
        #[arg(long)]
        partner: String,
        #[arg(long, conflicts_with = "child", required_unless_present = "child")]
        tracing_request: Option<Uuid>,
        #[arg(long)]
        child: Option<Uuid>,
        /// For a child: identity, status, care (comma-separated). A location is never sent.
        #[arg(long, default_value = "status")]
        sections: String,
        /// For an answer: the partner's id of the request it answers.
        #[arg(long)]
        in_reply_to: Option<Uuid>,
        #[arg(long)]
        output: PathBuf,
    },
    /// Verify and import a package received from a partner.
    Import {
        #[arg(long = "as")]
        user: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum PartnerCommand {
    /// Print this server's public keys, for partners to register it.
    Key,
    /// Register a partner agency with the keys it printed with `amparo partner key`.
    Add {
        /// Your agency (the one that will exchange packages with the partner).
        #[arg(long)]
        agency: String,
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2, e.g. CA.
        #[arg(long)]
        country: String,
        #[arg(long)]
        signing_key: String,
        #[arg(long)]
        age_recipient: String,
    },
    /// List the partners of an agency.
    List {
        #[arg(long)]
        agency: String,
    },
}

#[derive(Subcommand)]
enum PprlCommand {
    /// Encode a person CSV (the columns of amparo link) into id,clk.
    Encode {
        /// A file holding the secret both agencies share (at least 16 bytes).
        #[arg(long)]
        secret_file: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// Rename a column: SOURCE=DEST (repeatable).
        #[arg(long = "map")]
        map: Vec<String>,
    },
    /// Match two encoded files: id_a,id_b,similarity, one match per record at most.
    Match {
        a: PathBuf,
        b: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// Smallest Dice similarity written.
        #[arg(long, default_value_t = 0.6)]
        threshold: f64,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (once) on standard output.
    Create {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the whole hash chain; exit 1 naming the first bad entry.
    Verify,
}

fn database_url(cli: &Cli) -> Result<String, String> {
    if let Some(url) = &cli.database_url {
        return Ok(url.clone());
    }
    std::fs::create_dir_all(&cli.data_dir).map_err(|e| {
        format!(
            "cannot create data directory {}: {e}",
            cli.data_dir.display()
        )
    })?;
    let db = cli.data_dir.join("amparo.db");
    Ok(format!("sqlite://{}?mode=rwc", db.display()))
}

fn read_password_from_stdin() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    amparo_web::auth::check_new_password("", &pw).map_err(|e| e.detail)?;
    Ok(pw)
}

/// The user with this name, or a message saying there is none.
async fn user_named(store: &Store, username: &str) -> Result<amparo_store::UserRow, String> {
    store
        .user_by_username(username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user '{username}'"))
}

async fn open(cli: &Cli) -> Result<Store, String> {
    let url = database_url(cli)?;
    Store::open(&url)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))
}

/// On first start, create the agency and an `admin` account with a one-time password.
async fn ensure_admin(store: &Store, agency: &str) -> Result<Option<String>, String> {
    if store.count_users().await.map_err(|e| e.to_string())? > 0 {
        return Ok(None);
    }
    let agency = store
        .ensure_agency("system", agency)
        .await
        .map_err(|e| e.to_string())?;
    let password = amparo_web::users::one_time_password().map_err(|e| e.detail)?;
    let hash = amparo_web::auth::hash_password(&password).map_err(|e| e.detail)?;
    store
        .create_user(
            "system",
            NewUser {
                username: "admin".into(),
                agency_id: agency.id,
                roles: vec![Role::Admin],
                facilities: vec![],
                password_hash: hash,
                must_change_password: true,
                language: "es".into(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(password))
}

async fn run_server(
    store: Store,
    args: &ServeArgs,
    data_dir: &Path,
    banner: Vec<String>,
    require_second_factor: bool,
) -> Result<(), String> {
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let state = amparo_web::state(
        store,
        amparo_web::Options {
            secure_cookies: args.secure_cookies,
            require_second_factor,
            files_dir: data_dir.join("files"),
        },
    )
    .map_err(|e| e.detail)?;
    let mut out = std::io::stdout().lock();
    for line in banner {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "amparo is listening on http://{addr}");
    let _ = out.flush();
    drop(out);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    amparo_web::serve(listener, state, shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    match &cli.command {
        Command::Serve(args) => {
            let store = open(&cli).await?;
            let mut banner = Vec::new();
            if let Some(pw) = ensure_admin(&store, &args.agency).await? {
                banner.push(format!(
                    "First start: sign in as admin with the one-time password {pw} (you will be asked to choose a new one)."
                ));
            }
            run_server(store, args, &cli.data_dir, banner, true).await?;
        }
        Command::Demo(args) => {
            let store = open(&cli).await?;
            let mut banner = Vec::new();
            let agency = demo::AGENCY;
            if let Some(pw) = ensure_admin(&store, agency).await? {
                banner.push(format!(
                    "Administrator: admin / {pw} (one-time; you will choose a new one)"
                ));
            }
            banner.extend(demo::load(&store).await?);
            banner.push(
                "Demo: sign-ins need no second factor here; `amparo serve` asks investigators for a TOTP code."
                    .into(),
            );
            run_server(store, args, &cli.data_dir, banner, false).await?;
        }
        Command::User(UserCommand::Add {
            username,
            roles,
            agency,
            facilities,
            language,
        }) => {
            amparo_web::users::check_username(username).map_err(|e| e.to_string())?;
            let roles = amparo_web::users::parse_roles(roles).map_err(|e| e.to_string())?;
            if !matches!(language.as_str(), "es" | "en") {
                return Err(format!(
                    "--language '{language}' is not offered: use es or en"
                ));
            }
            let password = read_password_from_stdin()?;
            let store = open(&cli).await?;
            let agency = store
                .ensure_agency("cli", agency)
                .await
                .map_err(|e| e.to_string())?;
            let hash = amparo_web::auth::hash_password(&password).map_err(|e| e.detail)?;
            let user = store
                .create_user(
                    "cli",
                    NewUser {
                        username: username.clone(),
                        agency_id: agency.id,
                        roles,
                        facilities: facilities.clone(),
                        password_hash: hash,
                        must_change_password: false,
                        language: language.clone(),
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", user.id);
        }
        Command::User(UserCommand::Passwd { username }) => {
            let password = read_password_from_stdin()?;
            let store = open(&cli).await?;
            let user = user_named(&store, username).await?;
            let hash = amparo_web::auth::hash_password(&password).map_err(|e| e.detail)?;
            store
                .set_password("cli", user.id, &hash, false, None)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("password of {username} changed; their sessions have ended");
        }
        Command::User(UserCommand::SecondFactor { username, remove }) => {
            if !remove {
                return Err("say --remove to remove the user's second factor; users enrol their own at sign-in".into());
            }
            let store = open(&cli).await?;
            let user = user_named(&store, username).await?;
            store
                .set_second_factor("cli", user.id, None)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "second factor of {username} removed; they enrol a new one at their next sign-in"
            );
        }
        Command::Token(TokenCommand::Create { username }) => {
            let store = open(&cli).await?;
            let user = user_named(&store, username).await?;
            if user.disabled {
                return Err(format!("user '{username}' is disabled"));
            }
            let token = amparo_web::auth::random_token(32).map_err(|e| e.detail)?;
            store
                .create_token("cli", user.id, &amparo_store::sha256_hex(token.as_bytes()))
                .await
                .map_err(|e| e.to_string())?;
            println!("{token}");
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = open(&cli).await?;
            match store.audit_verify().await.map_err(|e| e.to_string())? {
                VerifyReport::Intact { checked } => {
                    println!("audit chain intact: {checked} entries checked");
                }
                VerifyReport::Broken { seq, reason } => {
                    println!("audit chain broken at entry {seq}: {reason}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Link {
            input,
            against,
            output,
            threshold,
            clusters,
            map,
            many_to_many,
        } => {
            let summary = link::run(link::LinkArgs {
                input,
                against: against.as_deref(),
                output,
                threshold: *threshold,
                clusters: clusters.as_deref(),
                map,
                one_to_one: !many_to_many,
            })?;
            eprintln!("{summary}");
        }
        Command::Import(ImportCommand::Children {
            operation,
            file,
            map,
            dry_run,
            good_rows,
            rejected,
            user,
        }) => {
            let store = open(&cli).await?;
            let (text, ok) = import::run(
                &store,
                import::ImportArgs {
                    operation: *operation,
                    file,
                    map,
                    dry_run: *dry_run,
                    good_rows: *good_rows,
                    rejected: rejected.as_deref(),
                    user: user.as_deref(),
                },
            )
            .await?;
            println!("{text}");
            store.close().await;
            if !ok {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Pprl(PprlCommand::Encode {
            secret_file,
            input,
            output,
            map,
        }) => {
            eprintln!("{}", pprl::encode_file(secret_file, input, output, map)?);
        }
        Command::Pprl(PprlCommand::Match {
            a,
            b,
            output,
            threshold,
        }) => {
            eprintln!("{}", pprl::match_files(a, b, output, *threshold)?);
        }
        Command::Referral(cmd) => {
            let user_name = match cmd {
                ReferralCommand::Export { user, .. } | ReferralCommand::Import { user, .. } => user,
            };
            let store = open(&cli).await?;
            let user = store
                .user_by_username(user_name)
                .await
                .map_err(|e| e.to_string())?
                .filter(|u| !u.disabled)
                .ok_or_else(|| format!("no active user '{user_name}'"))?;
            let state = amparo_web::state(
                store.clone(),
                amparo_web::Options {
                    secure_cookies: false,
                    require_second_factor: true,
                    files_dir: cli.data_dir.join("files"),
                },
            )
            .map_err(|e| e.detail)?;
            let auth = amparo_web::auth::Auth::console(user);
            match cmd {
                ReferralCommand::Export {
                    partner,
                    tracing_request,
                    child,
                    sections,
                    in_reply_to,
                    output,
                    ..
                } => {
                    if output.exists() {
                        return Err(format!(
                            "{} already exists: choose a new file",
                            output.display()
                        ));
                    }
                    let p = store
                        .partners(auth.user.agency_id)
                        .await
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .find(|p| &p.name == partner)
                        .ok_or_else(|| {
                            format!("no partner named '{partner}' (see amparo partner list)")
                        })?;
                    let bytes = match (tracing_request, child) {
                        (Some(t), _) => {
                            amparo_web::referrals::seal_tracing_request(
                                &state,
                                &auth,
                                &t.to_string(),
                                p.id,
                            )
                            .await
                        }
                        (None, Some(c)) => {
                            amparo_web::referrals::seal_child(
                                &state,
                                &auth,
                                &c.to_string(),
                                p.id,
                                Some(sections),
                                *in_reply_to,
                            )
                            .await
                        }
                        (None, None) => {
                            return Err("give --tracing-request ID or --child ID".into())
                        }
                    }
                    .map_err(|e| e.detail)?;
                    std::fs::write(output, bytes)
                        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
                    println!("package for {} written to {}", p.name, output.display());
                }
                ReferralCommand::Import { file, .. } => {
                    let bytes = std::fs::read(file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    let answer = amparo_web::referrals::receive(&state, &auth, &bytes)
                        .await
                        .map_err(|e| e.detail)?;
                    println!("{answer}");
                }
            }
            store.close().await;
        }
        Command::Partner(PartnerCommand::Key) => {
            let keys = amparo_io::referral::ServerKeys::load_or_create(&cli.data_dir)?;
            let p = keys.public();
            println!("signing-key {}", p.signing_key);
            println!("age-recipient {}", p.age_recipient);
        }
        Command::Partner(PartnerCommand::Add {
            agency,
            name,
            country,
            signing_key,
            age_recipient,
        }) => {
            amparo_io::referral::check_public_keys(signing_key, age_recipient)?;
            let country = amparo_domain::country::Country::parse(country)?;
            let name = amparo_domain::text::Text::parse(name).map_err(|m| format!("--name {m}"))?;
            let store = open(&cli).await?;
            let agency = existing_agency(&store, agency).await?;
            let p = store
                .add_partner(
                    "cli",
                    agency.id,
                    name.as_str(),
                    country.as_str(),
                    signing_key.trim(),
                    age_recipient.trim(),
                )
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", p.id);
        }
        Command::Partner(PartnerCommand::List { agency }) => {
            let store = open(&cli).await?;
            let agency = existing_agency(&store, agency).await?;
            for p in store.partners(agency.id).await.map_err(|e| e.to_string())? {
                println!("{}\t{}\t{}", p.id, p.name, p.country);
            }
        }
        Command::Migrate => {
            let store = open(&cli).await?;
            println!("database schema is up to date");
            store.close().await;
        }
        Command::Backup {
            to,
            encrypt,
            passphrase_file,
        } => {
            if to.exists() {
                return Err(format!(
                    "{} already exists: choose a new file",
                    to.display()
                ));
            }
            if cli.database_url.is_some() {
                return Err("amparo backup copies the SQLite database; on PostgreSQL use pg_dump and copy the files directory (see docs/OPERATIONS.md)".into());
            }
            let passphrase = if *encrypt || passphrase_file.is_some() {
                let p = read_secret(passphrase_file.as_deref())?;
                if p.chars().count() < 12 {
                    return Err("the passphrase must have at least 12 characters".into());
                }
                Some(p)
            } else {
                None
            };
            let store = open(&cli).await?;
            let copy = to.with_extension("db-partial");
            if copy.exists() {
                return Err(format!("{} exists: remove it first", copy.display()));
            }
            store
                .backup_to(&path_text(&copy)?)
                .await
                .map_err(|e| e.to_string())?;
            let packed = amparo_io::backup::pack(
                &copy,
                &cli.data_dir.join("files"),
                to,
                passphrase.as_deref(),
            );
            let _ = std::fs::remove_file(&copy);
            let packed = packed.inspect_err(|_| {
                let _ = std::fs::remove_file(to);
            })?;
            println!(
                "backup written to {} ({} files, {} bytes{})",
                to.display(),
                packed.files,
                packed.bytes,
                if passphrase.is_some() {
                    ", encrypted"
                } else {
                    ""
                }
            );
        }
        Command::Restore {
            from,
            passphrase_file,
        } => {
            if cli.database_url.is_some() {
                return Err("amparo restore writes a SQLite data directory; on PostgreSQL use pg_restore (see docs/OPERATIONS.md)".into());
            }
            amparo_io::backup::check_empty(&cli.data_dir)?;
            let passphrase = if amparo_io::backup::is_encrypted(from)? {
                Some(read_secret(passphrase_file.as_deref())?)
            } else {
                None
            };
            let packed = amparo_io::backup::unpack(from, &cli.data_dir, passphrase.as_deref())?;
            let store = open(&cli).await?;
            let report = store.audit_verify().await.map_err(|e| e.to_string())?;
            store.close().await;
            match report {
                VerifyReport::Intact { checked } => println!(
                    "restored into {} ({} files); audit chain intact: {checked} entries checked",
                    cli.data_dir.display(),
                    packed.files
                ),
                VerifyReport::Broken { seq, reason } => {
                    println!(
                        "restored into {}, but the audit chain is broken at entry {seq}: {reason}",
                        cli.data_dir.display()
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An agency that exists already: a mistyped name must not create a new one.
async fn existing_agency(store: &Store, name: &str) -> Result<amparo_store::Agency, String> {
    store
        .agency_by_name(name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!("no agency named '{name}': check the name (agencies come with their first user, amparo user add --agency)")
        })
}

/// A passphrase: the first line of a file, or of standard input.
fn read_secret(file: Option<&Path>) -> Result<String, String> {
    let text =
        match file {
            Some(f) => std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?,
            None => {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                    format!("could not read the passphrase from standard input: {e}")
                })?;
                line
            }
        };
    let p = text.lines().next().unwrap_or("").to_string();
    if p.is_empty() {
        return Err("no passphrase given: put it on the first line of standard input or of --passphrase-file".into());
    }
    Ok(p)
}

fn path_text(p: &Path) -> Result<String, String> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} is not a UTF-8 path", p.display()))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("amparo: {message}");
            ExitCode::from(2)
        }
    }
}
