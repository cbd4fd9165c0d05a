//! Closed vocabularies stored as `text` (with a CHECK constraint in the schema) and sent
//! as `snake_case` strings.

/// Declares a closed vocabulary sent as strings: serde, the OpenAPI schema (written here,
/// not derived: utoipa does not see `serde(rename)` through a macro, and the document must
/// list exactly the strings the server accepts), parsing and `ALL`.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $crate::db::enums::Vocabulary for $name {
            fn schema_name() -> &'static str {
                stringify!($name)
            }

            fn values() -> Vec<String> {
                $name::ALL
                    .iter()
                    .map(|v| match serde_json::to_value(v) {
                        Ok(serde_json::Value::String(s)) => s,
                        other => panic!("{} serializes as {other:?}, not a string", stringify!($name)),
                    })
                    .collect()
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} {:?}; expected one of: {}",
                        stringify!($name), s, [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A string enum stored as `text` (with a CHECK constraint in the schema).
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $crate::string_enum! {
            $(#[$meta])*
            #[derive(diesel::AsExpression, diesel::FromSqlRow)]
            #[diesel(sql_type = diesel::sql_types::Text)]
            $name { $($variant => $text),+ }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(bytes)?;
                s.parse().map_err(Into::into)
            }
        }
    };
}

/// A closed vocabulary as the OpenAPI document names it and as serde writes it.
pub trait Vocabulary {
    fn schema_name() -> &'static str;
    /// Every value, as serialized.
    fn values() -> Vec<String>;
}

text_enum! {
    /// Who a user is; decides what they may read and write.
    Role {
        Admin => "admin",
        Regulator => "regulator",
        Ministry => "ministry",
        Wholesaler => "wholesaler",
        Pharmacy => "pharmacy",
        Regional => "regional",
        Exchange => "exchange",
    }
}

impl Role {
    /// Roles bound to one facility.
    pub fn is_facility_role(self) -> bool {
        matches!(self, Role::Wholesaler | Role::Pharmacy)
    }

    /// Roles bound to one country (facility roles are too, through their facility).
    pub fn is_country_role(self) -> bool {
        matches!(self, Role::Regulator | Role::Ministry | Role::Wholesaler | Role::Pharmacy | Role::Exchange)
    }
}

text_enum! {
    /// What a licensed establishment does in the chain.
    FacilityKind {
        Importer => "importer",
        Wholesaler => "wholesaler",
        Pharmacy => "pharmacy",
        Hospital => "hospital",
    }
}

impl FacilityKind {
    /// Retail level in the INCB sense: where medicines reach patients.
    pub fn is_retail(self) -> bool {
        matches!(self, FacilityKind::Pharmacy | FacilityKind::Hospital)
    }

    /// The user role that reports for a facility of this kind.
    pub fn reporting_role(self) -> Role {
        if self.is_retail() { Role::Pharmacy } else { Role::Wholesaler }
    }
}

text_enum! {
    /// Which international convention controls a substance.
    Convention {
        Single1961 => "1961",
        Psychotropic1971 => "1971",
        NotControlled => "none",
    }
}

text_enum! {
    /// Schedule of the substance under its convention.
    Schedule {
        I => "I",
        II => "II",
        III => "III",
        IV => "IV",
    }
}

text_enum! {
    /// Pharmaceutical form of a product.
    DosageForm {
        Tablet => "tablet",
        Capsule => "capsule",
        OralSolution => "oral_solution",
        Injection => "injection",
        TransdermalPatch => "transdermal_patch",
        Suppository => "suppository",
        Sublingual => "sublingual",
        Buccal => "buccal",
        NasalSpray => "nasal_spray",
        Other => "other",
    }
}

text_enum! {
    /// The countable unit in which a product's stock is kept.
    Unit {
        Tablet => "tablet",
        Capsule => "capsule",
        Ampoule => "ampoule",
        Vial => "vial",
        Patch => "patch",
        Bottle => "bottle",
        Suppository => "suppository",
        Sachet => "sachet",
        Film => "film",
        Spray => "spray",
        Other => "other",
    }
}

text_enum! {
    /// Sex in population figures.
    Sex {
        Female => "female",
        Male => "male",
    }
}

text_enum! {
    /// Age bands shared by population figures and dispensing records.
    AgeBand {
        From0To14 => "0-14",
        From15To29 => "15-29",
        From30To44 => "30-44",
        From45To59 => "45-59",
        From60To74 => "60-74",
        From75 => "75+",
    }
}

impl AgeBand {
    /// The band of an age in whole years.
    pub fn of_age(age: u32) -> AgeBand {
        match age {
            0..=14 => AgeBand::From0To14,
            15..=29 => AgeBand::From15To29,
            30..=44 => AgeBand::From30To44,
            45..=59 => AgeBand::From45To59,
            60..=74 => AgeBand::From60To74,
            _ => AgeBand::From75,
        }
    }
}

text_enum! {
    /// INCB Form B: the annual estimate, and supplementary estimates that add to it.
    EstimateKind {
        Annual => "annual",
        Supplementary => "supplementary",
    }
}

text_enum! {
    /// What moved stock in or out of a facility.
    StockEventKind {
        ImportReceipt => "import_receipt",
        Receipt => "receipt",
        TransferOut => "transfer_out",
        TransferIn => "transfer_in",
        Export => "export",
        Dispense => "dispense",
        Return => "return",
        Destruction => "destruction",
        Loss => "loss",
        Theft => "theft",
        Adjustment => "adjustment",
        CountAdjustment => "count_adjustment",
        Reversal => "reversal",
    }
}

impl StockEventKind {
    /// Whether a reversal may compensate an entry of this kind. Import receipts, exports and
    /// transfers are tied to documents and are corrected through them.
    pub fn is_reversible(self) -> bool {
        !matches!(
            self,
            StockEventKind::ImportReceipt
                | StockEventKind::Export
                | StockEventKind::TransferOut
                | StockEventKind::TransferIn
                | StockEventKind::Reversal
        )
    }
}

text_enum! {
    /// Kinds a facility reports directly through `POST /facilities/{id}/stock-events`.
    ReportedEventKind {
        Receipt => "receipt",
        Return => "return",
        Destruction => "destruction",
        Loss => "loss",
        Theft => "theft",
        Adjustment => "adjustment",
    }
}

impl ReportedEventKind {
    pub fn ledger_kind(self) -> StockEventKind {
        match self {
            ReportedEventKind::Receipt => StockEventKind::Receipt,
            ReportedEventKind::Return => StockEventKind::Return,
            ReportedEventKind::Destruction => StockEventKind::Destruction,
            ReportedEventKind::Loss => StockEventKind::Loss,
            ReportedEventKind::Theft => StockEventKind::Theft,
            ReportedEventKind::Adjustment => StockEventKind::Adjustment,
        }
    }

    /// The sign stock moves in: +1 in, -1 out, 0 either (adjustments carry their sign).
    pub fn direction(self) -> i64 {
        match self {
            ReportedEventKind::Receipt | ReportedEventKind::Return => 1,
            ReportedEventKind::Destruction | ReportedEventKind::Loss | ReportedEventKind::Theft => -1,
            ReportedEventKind::Adjustment => 0,
        }
    }
}

text_enum! {
    /// Where a transfer stands.
    TransferStatus {
        InTransit => "in_transit",
        Received => "received",
        Short => "short",
    }
}

text_enum! {
    /// A patient's sex as recorded at dispensing.
    PatientSex {
        Female => "female",
        Male => "male",
        Unknown => "unknown",
    }
}

text_enum! {
    /// Why the opioid was dispensed.
    Indication {
        Cancer => "cancer",
        Palliative => "palliative",
        Acute => "acute",
        ChronicNonCancer => "chronic_non_cancer",
        OpioidDependence => "opioid_dependence",
        Other => "other",
    }
}

impl Indication {
    /// Cancer and palliative care patients are never flagged for dose alone.
    pub fn exempt_from_dose_rules(self) -> bool {
        matches!(self, Indication::Cancer | Indication::Palliative)
    }
}

text_enum! {
    /// Where a facility's monthly reporting period stands.
    PeriodStatus {
        Open => "open",
        Closed => "closed",
        Late => "late",
    }
}

text_enum! {
    /// Availability findings and diversion signals share one flag list.
    RuleCategory {
        Availability => "availability",
        Diversion => "diversion",
    }
}

text_enum! {
    /// `shadow` rules keep their flags out of default lists until they go `active`.
    RuleMode {
        Shadow => "shadow",
        Active => "active",
    }
}

text_enum! {
    /// How urgent a flag is.
    Severity {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
}

text_enum! {
    /// What a flag is about.
    SubjectType {
        Facility => "facility",
        Prescriber => "prescriber",
        Patient => "patient",
        Region => "region",
        Country => "country",
        Substance => "substance",
    }
}

text_enum! {
    /// Where a flag stands in its review. `no_longer_found` is set by a rescan of the flag's
    /// period that no longer finds it (never by a reviewer); a later scan that finds it again
    /// makes it `open`.
    FlagStatus {
        Open => "open",
        UnderReview => "under_review",
        Confirmed => "confirmed",
        Dismissed => "dismissed",
        NoLongerFound => "no_longer_found",
    }
}

text_enum! {
    /// What an entry of a flag's trail records: raised or updated by a scan, a reviewer's
    /// change of state or assignment, a comment, and a rescan losing or finding it again.
    FlagEventAction {
        Raised => "raised",
        Updated => "updated",
        Status => "status",
        Assigned => "assigned",
        Comment => "comment",
        NoLongerFound => "no_longer_found",
        FoundAgain => "found_again",
    }
}

impl FlagStatus {
    /// Allowed moves: open → under review → confirmed or dismissed; any closed flag may be
    /// reopened; an open flag may be confirmed or dismissed at once; a flag no longer found
    /// may still be reviewed, confirmed, dismissed or reopened. Only scans make a flag
    /// `no_longer_found`.
    pub fn can_move_to(self, next: FlagStatus) -> bool {
        use FlagStatus::*;
        matches!(
            (self, next),
            (Open, UnderReview)
                | (Open, Confirmed)
                | (Open, Dismissed)
                | (UnderReview, Confirmed)
                | (UnderReview, Dismissed)
                | (UnderReview, Open)
                | (Confirmed, Open)
                | (Dismissed, Open)
                | (NoLongerFound, Open)
                | (NoLongerFound, UnderReview)
                | (NoLongerFound, Confirmed)
                | (NoLongerFound, Dismissed)
        )
    }
}

text_enum! {
    /// Who may read a flag comment: regulators only, or also the facility concerned.
    CommentVisibility {
        Internal => "internal",
        Official => "official",
    }
}

text_enum! {
    /// What started a scan.
    ScanTrigger {
        Manual => "manual",
        Scheduled => "scheduled",
    }
}

text_enum! {
    /// Where a scan is: manual scans run in the background after the request is answered.
    ScanStatus {
        Running => "running",
        Completed => "completed",
        Failed => "failed",
    }
}

string_enum! {
    /// Why a rule that compares subjects (facilities, prescribers) could not compare one
    /// (declared in alphabetical order: a scan lists the reasons in this order).
    NotEvaluatedReason {
        MissingFactor => "missing_factor",
        TooFewPatients => "too_few_patients",
        TooFewPeers => "too_few_peers",
        TooFewRecords => "too_few_records",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("root".parse::<Role>().is_err());
        assert_eq!(serde_json::to_string(&Convention::Single1961).unwrap(), "\"1961\"");
    }

    #[test]
    fn age_bands_cover_every_age() {
        assert_eq!(AgeBand::of_age(0), AgeBand::From0To14);
        assert_eq!(AgeBand::of_age(14), AgeBand::From0To14);
        assert_eq!(AgeBand::of_age(15), AgeBand::From15To29);
        assert_eq!(AgeBand::of_age(74), AgeBand::From60To74);
        assert_eq!(AgeBand::of_age(120), AgeBand::From75);
    }
}

text_enum! {
    /// What an audit entry records: the write's operation.
    AuditAction {
        BootstrapAdmin => "bootstrap_admin",
        CreateUser => "create_user",
        ActivateUser => "activate_user",
        DeactivateUser => "deactivate_user",
        ChangePassword => "change_password",
        ResetPassword => "reset_password",
        CreateApiKey => "create_api_key",
        RevokeApiKey => "revoke_api_key",
        CreateRegion => "create_region",
        PutRegionPopulation => "put_region_population",
        CreateFacility => "create_facility",
        UpdateFacility => "update_facility",
        CreateSubstance => "create_substance",
        UpdateSubstance => "update_substance",
        CreateProduct => "create_product",
        CreateEstimate => "create_estimate",
        PutCountryDeaths => "put_country_deaths",
        ReplaceAdequacyBands => "replace_adequacy_bands",
        UpdateAnalyticsParameter => "update_analytics_parameter",
        CreateImportAuthorization => "create_import_authorization",
        RecordImportReceipt => "record_import_receipt",
        CreateExportAuthorization => "create_export_authorization",
        RecordExportShipment => "record_export_shipment",
        CreateTransfer => "create_transfer",
        ConfirmTransferReceipt => "confirm_transfer_receipt",
        RecordStockEvent => "record_stock_event",
        ReverseStockEvent => "reverse_stock_event",
        RecordInventoryCount => "record_inventory_count",
        RecordDispensings => "record_dispensings",
        CloseReportingPeriod => "close_reporting_period",
        UpdateRule => "update_rule",
        CreateScan => "create_scan",
        ScheduledScan => "scheduled_scan",
        CompleteScan => "complete_scan",
        FailScan => "fail_scan",
        UpdateFlag => "update_flag",
        CreateFlagComment => "create_flag_comment",
        RegisterExchangeKey => "register_exchange_key",
        ReceiveExchangePackage => "receive_exchange_package",
        PutExchangePolicy => "put_exchange_policy",
        PushExchangePackage => "push_exchange_package",
        SetLanguage => "set_language",
    }
}

text_enum! {
    /// The kind of record an audit entry concerns.
    ResourceType {
        User => "user",
        ApiKey => "api_key",
        Region => "region",
        Facility => "facility",
        Substance => "substance",
        Product => "product",
        Estimate => "estimate",
        CountryDeaths => "country_deaths",
        AdequacyBands => "adequacy_bands",
        AnalyticsParameter => "analytics_parameter",
        ImportAuthorization => "import_authorization",
        ExportAuthorization => "export_authorization",
        Transfer => "transfer",
        StockEvent => "stock_event",
        InventoryCount => "inventory_count",
        Rule => "rule",
        Scan => "scan",
        Flag => "flag",
        ExchangeKey => "exchange_key",
        ExchangePackage => "exchange_package",
        ExchangePolicy => "exchange_policy",
    }
}

text_enum! {
    /// A section of a regional exchange package; each is shared only when the country's
    /// regulator says so.
    ExchangeSection {
        Availability => "availability",
        Reporting => "reporting",
        Access => "access",
        Estimates => "estimates",
        Flags => "flags",
    }
}

text_enum! {
    /// Where a push of a package to the hub stands.
    PushStatus {
        Pending => "pending",
        Delivered => "delivered",
        Failed => "failed",
    }
}

text_enum! {
    /// Why a write that matters to oversight was refused (kept in `refused_attempts`).
    RefusalCode {
        InsufficientStock => "insufficient_stock",
        AuthorizationExceeded => "authorization_exceeded",
        AuthorizationNotValid => "authorization_not_valid",
        LicenceExpired => "licence_expired",
        ExportAuthorizationExceeded => "export_authorization_exceeded",
        ExportAuthorizationNotValid => "export_authorization_not_valid",
        ExportLicenceExpired => "export_licence_expired",
    }
}
