// @generated automatically by Diesel CLI.

diesel::table! {
    adequacy_bands (code) {
        code -> Text,
        label -> Text,
        min_sddd -> Numeric,
        max_sddd -> Nullable<Numeric>,
        is_finding -> Bool,
        source -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    analytics_parameters (code) {
        code -> Text,
        value -> Numeric,
        unit -> Text,
        description -> Text,
        source -> Text,
        updated_at -> Timestamptz,
        is_default -> Bool,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        name -> Text,
        user_id -> Int8,
        facility_id -> Int8,
        country_code -> Text,
        prefix -> Text,
        secret_sha256 -> Bytea,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Int8>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        user_id -> Nullable<Int8>,
        role -> Nullable<Text>,
        country_code -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Jsonb,
        api_key_id -> Nullable<Int8>,
    }
}

diesel::table! {
    countries (code) {
        code -> Text,
        iso3 -> Text,
        name -> Text,
        population -> Int8,
        population_date -> Date,
        population_source -> Text,
        time_zone -> Text,
    }
}

diesel::table! {
    dispensing_monthly (country_code, month, region_id, product_id, patient_sex, patient_age_band) {
        country_code -> Text,
        region_id -> Int8,
        product_id -> Int8,
        month -> Date,
        patient_sex -> Text,
        patient_age_band -> Text,
        units -> Int8,
        records -> Int8,
    }
}

diesel::table! {
    dispensings (id) {
        id -> Int8,
        country_code -> Text,
        facility_id -> Int8,
        region_id -> Int8,
        product_id -> Int8,
        substance_id -> Int8,
        client_record_id -> Text,
        quantity_units -> Int8,
        dispensed_at -> Timestamptz,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Int8>,
        patient_pseudonym -> Bytea,
        patient_sex -> Text,
        patient_age_band -> Text,
        prescriber_id -> Text,
        prescription_number -> Text,
        days_supply -> Int4,
        indication -> Text,
        daily_mme -> Nullable<Numeric>,
    }
}

diesel::table! {
    deaths_by_cause (country_code, year, cause) {
        country_code -> Text,
        year -> Int4,
        cause -> Text,
        deaths -> Int8,
        source -> Text,
        recorded_by -> Nullable<Int8>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    estimates (id) {
        id -> Int8,
        country_code -> Text,
        substance_id -> Int8,
        year -> Int4,
        kind -> Text,
        quantity_g -> Numeric,
        reference -> Nullable<Text>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    facilities (id) {
        id -> Int8,
        country_code -> Text,
        region_id -> Int8,
        name -> Text,
        kind -> Text,
        licence_number -> Text,
        licence_valid_until -> Date,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    facility_monthly (facility_id, product_id, month, bucket) {
        facility_id -> Int8,
        product_id -> Int8,
        month -> Date,
        bucket -> Text,
        units -> Int8,
        records -> Int8,
    }
}

diesel::table! {
    flag_events (id) {
        id -> Int8,
        flag_id -> Int8,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        visibility -> Nullable<Text>,
        user_id -> Nullable<Int8>,
        scan_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    export_authorizations (id) {
        id -> Int8,
        number -> Text,
        country_code -> Text,
        exporter_facility_id -> Int8,
        importing_country -> Text,
        import_certificate_number -> Text,
        product_id -> Int8,
        substance_id -> Int8,
        quantity_units -> Int8,
        quantity_g -> Numeric,
        year -> Int4,
        valid_from -> Date,
        valid_until -> Date,
        issued_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    flags (id) {
        id -> Int8,
        country_code -> Text,
        rule_code -> Text,
        rule_version -> Int4,
        category -> Text,
        mode -> Text,
        subject_type -> Text,
        subject_id -> Text,
        facility_id -> Nullable<Int8>,
        region_id -> Nullable<Int8>,
        period_from -> Date,
        period_to -> Date,
        severity -> Text,
        status -> Text,
        title -> Text,
        params -> Jsonb,
        evidence -> Jsonb,
        assigned_to -> Nullable<Int8>,
        first_scan_id -> Nullable<Int8>,
        last_scan_id -> Nullable<Int8>,
        raised_at -> Timestamptz,
        updated_at -> Timestamptz,
        no_longer_found_scan_id -> Nullable<Int8>,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Int8,
        key -> Text,
        request_fingerprint -> Bytea,
        response_status -> Int2,
        response_body -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    import_authorizations (id) {
        id -> Int8,
        number -> Text,
        country_code -> Text,
        importer_facility_id -> Int8,
        exporting_country -> Text,
        product_id -> Int8,
        substance_id -> Int8,
        quantity_units -> Int8,
        quantity_g -> Numeric,
        year -> Int4,
        valid_from -> Date,
        valid_until -> Date,
        issued_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    inventory_counts (id) {
        id -> Int8,
        country_code -> Text,
        facility_id -> Int8,
        product_id -> Int8,
        counted_at -> Timestamptz,
        counted_units -> Int8,
        expected_units -> Int8,
        variance_units -> Int8,
        reason -> Nullable<Text>,
        recorded_by -> Nullable<Int8>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    products (id) {
        id -> Int8,
        name -> Text,
        substance_id -> Int8,
        base_mg_per_unit -> Numeric,
        dosage_form -> Text,
        unit -> Text,
        delivery_mcg_per_hour -> Nullable<Numeric>,
        created_at -> Timestamptz,
        strength_mg_per_unit -> Nullable<Numeric>,
        strength_salt -> Nullable<Text>,
    }
}

diesel::table! {
    refused_attempts (id) {
        id -> Int8,
        country_code -> Text,
        facility_id -> Nullable<Int8>,
        product_id -> Nullable<Int8>,
        code -> Text,
        occurred_at -> Timestamptz,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Int8>,
        request_id -> Nullable<Text>,
        details -> Jsonb,
    }
}

diesel::table! {
    region_population_groups (region_id, year, sex, age_band) {
        region_id -> Int8,
        year -> Int4,
        sex -> Text,
        age_band -> Text,
        count -> Int8,
    }
}

diesel::table! {
    region_populations (region_id, year) {
        region_id -> Int8,
        year -> Int4,
        total -> Int8,
        source -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    regions (id) {
        id -> Int8,
        country_code -> Text,
        name -> Text,
        code -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    reporting_periods (facility_id, period) {
        facility_id -> Int8,
        period -> Date,
        country_code -> Text,
        zero_report -> Bool,
        dispensing_count -> Int8,
        closed_at -> Timestamptz,
        closed_by -> Nullable<Int8>,
    }
}

diesel::table! {
    rule_versions (country_code, code, version) {
        country_code -> Text,
        code -> Text,
        version -> Int4,
        params -> Jsonb,
        enabled -> Bool,
        mode -> Text,
        changed_by -> Nullable<Int8>,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    rules (country_code, code) {
        country_code -> Text,
        code -> Text,
        category -> Text,
        description -> Text,
        version -> Int4,
        params -> Jsonb,
        enabled -> Bool,
        mode -> Text,
        updated_by -> Nullable<Int8>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    scans (id) {
        id -> Int8,
        country_code -> Text,
        period_from -> Date,
        period_to -> Date,
        trigger -> Text,
        requested_by -> Nullable<Int8>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        flags_raised -> Int4,
        flags_updated -> Int4,
        rules -> Jsonb,
        status -> Text,
    }
}

diesel::table! {
    stock_balances (facility_id, product_id) {
        facility_id -> Int8,
        product_id -> Int8,
        country_code -> Text,
        balance_units -> Int8,
        last_occurred_at -> Nullable<Timestamptz>,
        zero_since -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    stock_events (id) {
        id -> Int8,
        country_code -> Text,
        facility_id -> Int8,
        product_id -> Int8,
        kind -> Text,
        delta_units -> Int8,
        occurred_at -> Timestamptz,
        recorded_at -> Timestamptz,
        recorded_by -> Nullable<Int8>,
        reason -> Nullable<Text>,
        reverses_entry_id -> Nullable<Int8>,
        reversed_kind -> Nullable<Text>,
        import_authorization_id -> Nullable<Int8>,
        transfer_id -> Nullable<Int8>,
        inventory_count_id -> Nullable<Int8>,
        request_id -> Nullable<Text>,
        region_id -> Int8,
        export_authorization_id -> Nullable<Int8>,
    }
}

diesel::table! {
    substance_reference_values (id) {
        id -> Int8,
        substance_id -> Int8,
        effective_from -> Date,
        convention -> Text,
        schedule -> Nullable<Text>,
        sddd_mg -> Nullable<Numeric>,
        sddd_status -> Text,
        me_factor -> Nullable<Numeric>,
        me_source -> Nullable<Text>,
        transdermal_mme_per_mcg_h -> Nullable<Numeric>,
        reference_salt -> Nullable<Text>,
        salt_base_factor -> Nullable<Numeric>,
        notes -> Nullable<Text>,
        source -> Text,
        recorded_by -> Nullable<Int8>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    substances (id) {
        id -> Int8,
        inn -> Text,
        created_at -> Timestamptz,
        in_sddd_basket -> Bool,
    }
}

diesel::table! {
    supply_monthly (country_code, month, region_id, facility_kind, product_id, bucket) {
        country_code -> Text,
        region_id -> Int8,
        facility_kind -> Text,
        product_id -> Int8,
        month -> Date,
        bucket -> Text,
        units -> Int8,
    }
}

diesel::table! {
    transfers (id) {
        id -> Int8,
        country_code -> Text,
        from_facility_id -> Int8,
        to_facility_id -> Int8,
        product_id -> Int8,
        quantity_units -> Int8,
        shipped_at -> Timestamptz,
        shipped_by -> Nullable<Int8>,
        received_units -> Nullable<Int8>,
        received_at -> Nullable<Timestamptz>,
        received_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_preferences (user_id) {
        user_id -> Int8,
        language -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        country_code -> Nullable<Text>,
        facility_id -> Nullable<Int8>,
        active -> Bool,
        created_at -> Timestamptz,
        must_change_password -> Bool,
        password_changed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    exchange_keys (id) {
        id -> Int8,
        country_code -> Text,
        public_key -> Bytea,
        registered_at -> Timestamptz,
        registered_by -> Nullable<Int8>,
    }
}

diesel::table! {
    exchange_packages (id) {
        id -> Int8,
        country_code -> Text,
        month -> Date,
        sequence -> Int8,
        schema_version -> Int4,
        key_id -> Int8,
        package -> Jsonb,
        signature -> Bytea,
        received_at -> Timestamptz,
        received_by -> Nullable<Int8>,
        superseded_by -> Nullable<Int8>,
    }
}

diesel::table! {
    exchange_policies (country_code) {
        country_code -> Text,
        shared -> Array<Text>,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Int8>,
    }
}

diesel::table! {
    exchange_pushes (id) {
        id -> Int8,
        country_code -> Text,
        month -> Date,
        sequence -> Int8,
        content_sha256 -> Bytea,
        envelope -> Jsonb,
        hub_url -> Text,
        status -> Text,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(api_keys -> countries (country_code));
diesel::joinable!(exchange_packages -> exchange_keys (key_id));
diesel::joinable!(user_preferences -> users (user_id));
diesel::joinable!(api_keys -> facilities (facility_id));
diesel::joinable!(audit_events -> api_keys (api_key_id));
diesel::joinable!(audit_events -> users (user_id));
diesel::joinable!(deaths_by_cause -> countries (country_code));
diesel::joinable!(deaths_by_cause -> users (recorded_by));
diesel::joinable!(dispensings -> countries (country_code));
diesel::joinable!(dispensings -> facilities (facility_id));
diesel::joinable!(dispensings -> products (product_id));
diesel::joinable!(dispensings -> regions (region_id));
diesel::joinable!(dispensings -> substances (substance_id));
diesel::joinable!(dispensings -> users (recorded_by));
diesel::joinable!(estimates -> countries (country_code));
diesel::joinable!(estimates -> substances (substance_id));
diesel::joinable!(estimates -> users (created_by));
diesel::joinable!(export_authorizations -> countries (country_code));
diesel::joinable!(export_authorizations -> facilities (exporter_facility_id));
diesel::joinable!(export_authorizations -> products (product_id));
diesel::joinable!(export_authorizations -> substances (substance_id));
diesel::joinable!(export_authorizations -> users (issued_by));
diesel::joinable!(facilities -> countries (country_code));
diesel::joinable!(facilities -> regions (region_id));
diesel::joinable!(flag_events -> flags (flag_id));
diesel::joinable!(flag_events -> scans (scan_id));
diesel::joinable!(flag_events -> users (user_id));
diesel::joinable!(flags -> countries (country_code));
diesel::joinable!(flags -> facilities (facility_id));
diesel::joinable!(flags -> regions (region_id));
diesel::joinable!(flags -> users (assigned_to));
diesel::joinable!(idempotency_keys -> users (user_id));
diesel::joinable!(import_authorizations -> countries (country_code));
diesel::joinable!(import_authorizations -> facilities (importer_facility_id));
diesel::joinable!(import_authorizations -> products (product_id));
diesel::joinable!(import_authorizations -> substances (substance_id));
diesel::joinable!(import_authorizations -> users (issued_by));
diesel::joinable!(inventory_counts -> countries (country_code));
diesel::joinable!(inventory_counts -> facilities (facility_id));
diesel::joinable!(inventory_counts -> products (product_id));
diesel::joinable!(inventory_counts -> users (recorded_by));
diesel::joinable!(products -> substances (substance_id));
diesel::joinable!(refused_attempts -> countries (country_code));
diesel::joinable!(refused_attempts -> facilities (facility_id));
diesel::joinable!(refused_attempts -> products (product_id));
diesel::joinable!(refused_attempts -> users (recorded_by));
diesel::joinable!(region_populations -> regions (region_id));
diesel::joinable!(regions -> countries (country_code));
diesel::joinable!(reporting_periods -> countries (country_code));
diesel::joinable!(reporting_periods -> facilities (facility_id));
diesel::joinable!(reporting_periods -> users (closed_by));
diesel::joinable!(rule_versions -> users (changed_by));
diesel::joinable!(rules -> countries (country_code));
diesel::joinable!(rules -> users (updated_by));
diesel::joinable!(scans -> countries (country_code));
diesel::joinable!(scans -> users (requested_by));
diesel::joinable!(stock_balances -> countries (country_code));
diesel::joinable!(stock_balances -> facilities (facility_id));
diesel::joinable!(stock_balances -> products (product_id));
diesel::joinable!(stock_events -> countries (country_code));
diesel::joinable!(stock_events -> export_authorizations (export_authorization_id));
diesel::joinable!(stock_events -> facilities (facility_id));
diesel::joinable!(stock_events -> import_authorizations (import_authorization_id));
diesel::joinable!(stock_events -> inventory_counts (inventory_count_id));
diesel::joinable!(stock_events -> products (product_id));
diesel::joinable!(stock_events -> regions (region_id));
diesel::joinable!(stock_events -> transfers (transfer_id));
diesel::joinable!(stock_events -> users (recorded_by));
diesel::joinable!(substance_reference_values -> substances (substance_id));
diesel::joinable!(substance_reference_values -> users (recorded_by));
diesel::joinable!(transfers -> countries (country_code));
diesel::joinable!(transfers -> products (product_id));
diesel::joinable!(users -> countries (country_code));
diesel::joinable!(users -> facilities (facility_id));

diesel::allow_tables_to_appear_in_same_query!(
    adequacy_bands,
    analytics_parameters,
    api_keys,
    audit_events,
    countries,
    deaths_by_cause,
    dispensing_monthly,
    dispensings,
    estimates,
    exchange_keys,
    exchange_packages,
    exchange_policies,
    exchange_pushes,
    export_authorizations,
    facilities,
    facility_monthly,
    flag_events,
    flags,
    idempotency_keys,
    import_authorizations,
    inventory_counts,
    products,
    refused_attempts,
    region_population_groups,
    region_populations,
    regions,
    reporting_periods,
    rule_versions,
    rules,
    scans,
    stock_balances,
    stock_events,
    substance_reference_values,
    substances,
    supply_monthly,
    transfers,
    user_preferences,
    users,
);
