-- What a person chose for the dashboard: its language (a catalogue under locales/).
CREATE TABLE user_preferences (
    user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    language text NOT NULL CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);
