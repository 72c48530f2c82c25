//! The schema migrations, embedded in the binary. `sqlx::migrate!` needs sqlx's macros, which
//! this build leaves out, so the files are listed here: a new file in `migrations/postgres`
//! and `migrations/sqlite` (kept in step) gets a line in each list.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, SQL)` for Postgres.
const POSTGRES: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../../../migrations/postgres/0001_initial.sql"),
)];

/// `(version, description, SQL)` for SQLite.
const SQLITE: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../../../migrations/sqlite/0001_initial.sql"),
)];

/// The Postgres migrator.
pub(crate) fn postgres() -> Migrator {
    migrator(POSTGRES)
}

/// The SQLite migrator.
pub(crate) fn sqlite() -> Migrator {
    migrator(SQLITE)
}

fn migrator(files: &[(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = files
        .iter()
        .map(|(version, description, sql)| {
            let description = Cow::Borrowed(*description);
            Migration::new(
                *version,
                description,
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let versions = |files: &[(i64, &str, &str)]| files.iter().map(|f| f.0).collect::<Vec<_>>();
        assert_eq!(versions(POSTGRES), versions(SQLITE));
        assert_eq!(postgres().iter().count(), POSTGRES.len());
    }
}
