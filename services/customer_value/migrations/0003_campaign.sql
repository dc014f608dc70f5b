-- Campaigns (BuildCampaign, ListCampaignRecipients, SendCampaign; see
-- docs/CUSTOMER_VALUE.md).  A campaign is stored with the packed bytes of
-- the request that built it (a retry with the same id must match them);
-- each recipient with its picks as built (a packed CampaignRecipient) and
-- its send state.  A recipient leaves PENDING in the transaction that
-- publishes its CAMPAIGN_MESSAGE, under its row lock, so it is sent at
-- most once however many SendCampaign calls race.
CREATE TABLE campaign (
    campaign_id   text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('SEASONAL', 'GEO', 'URGENCY')),
    region        text NOT NULL DEFAULT '',
    promotion_id  text NOT NULL DEFAULT '',   -- URGENCY: inventory's promotion
    starts_at_ms  bigint NOT NULL,
    ends_at_ms    bigint NOT NULL CHECK (ends_at_ms > starts_at_ms),
    audience_size integer NOT NULL CHECK (audience_size >= 0),
    state         text NOT NULL DEFAULT 'BUILT' CHECK (state IN ('BUILT', 'SENT')),
    request       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);

CREATE TABLE campaign_recipient (
    campaign_id text NOT NULL REFERENCES campaign,
    customer_id text NOT NULL,
    region      text NOT NULL,
    recipient   bytea NOT NULL,   -- CampaignRecipient: the picks as built
    state       text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'SENT', 'SKIPPED')),
    sent_picks  integer NOT NULL DEFAULT 0 CHECK (sent_picks >= 0),
    sent_at     timestamptz,
    PRIMARY KEY (campaign_id, customer_id)
);
CREATE INDEX campaign_recipient_pending ON campaign_recipient (campaign_id, customer_id)
    WHERE state = 'PENDING';
