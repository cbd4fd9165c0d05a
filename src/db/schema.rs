// @generated automatically by Diesel CLI.

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
    products (id) {
        id -> Int8,
        name -> Text,
        substance_id -> Int8,
        base_mg_per_unit -> Numeric,
        dosage_form -> Text,
        unit -> Text,
        delivery_mcg_per_hour -> Nullable<Numeric>,
        created_at -> Timestamptz,
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
    }
}

diesel::joinable!(audit_events -> users (user_id));
diesel::joinable!(facilities -> countries (country_code));
diesel::joinable!(facilities -> regions (region_id));
diesel::joinable!(idempotency_keys -> users (user_id));
diesel::joinable!(products -> substances (substance_id));
diesel::joinable!(region_populations -> regions (region_id));
diesel::joinable!(regions -> countries (country_code));
diesel::joinable!(substance_reference_values -> substances (substance_id));
diesel::joinable!(substance_reference_values -> users (recorded_by));
diesel::joinable!(users -> countries (country_code));
diesel::joinable!(users -> facilities (facility_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    countries,
    facilities,
    idempotency_keys,
    products,
    region_population_groups,
    region_populations,
    regions,
    substance_reference_values,
    substances,
    users,
);
