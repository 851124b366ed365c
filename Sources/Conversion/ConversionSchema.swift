import Contracts
import Foundation
import ServiceKit
import Storage

/// The conversion service's database. Money is an integer count of the
/// currency's minor units (never a float); counters are 64-bit.
/// `conversion_key` holds one row per deduplication key, which a recording
/// takes (upsert) before it looks for a stored duplicate: concurrent
/// duplicates wait on that row, so exactly one of them records.
/// `conversion_credit` says which campaigns a conversion may credit (its
/// touchpoints' campaigns, or its own campaign when it has none), for a
/// campaign's attribution.
public enum ConversionSchema {
    public static let migrations: [Migration] = [
        Migration(id: 1, name: "create_campaign", sqlite: campaignTables(.sqlite), postgres: campaignTables(.postgres)),
        Migration(id: 2, name: "create_conversion", sqlite: conversionTables(.sqlite), postgres: conversionTables(.postgres)),
    ] + Outbox.migrations(startingAt: 3) + [
        Idempotency.migration(id: 5),
        Outbox.tenantMigration(id: 6),
        Idempotency.tenantMigration(id: 7),
        Migration.tenantIsolation(id: 8, tables: tenantTables),
    ]

    public static let tenantTables = ["campaign", "experiment", "experiment_variant", "conversion", "conversion_key", "conversion_credit"]

    static func campaignTables(_ dialect: SQLDialect) -> String {
        let (integer, real, strict) = dialect == .sqlite ? ("INTEGER", "REAL", " STRICT") : ("BIGINT", "DOUBLE PRECISION", "")
        return """
            CREATE TABLE campaign (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                name TEXT NOT NULL,
                objective TEXT NOT NULL,
                status TEXT NOT NULL,
                currency TEXT NOT NULL,
                budget \(integer) NOT NULL,
                spend \(integer) NOT NULL,
                impressions \(integer) NOT NULL,
                clicks \(integer) NOT NULL,
                conversions \(integer) NOT NULL,
                conversion_value \(integer) NOT NULL,
                clip_ids TEXT NOT NULL,
                meta_campaign_id TEXT,
                starts_at \(integer),
                ends_at \(integer),
                created_at \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                deleted_at \(integer),
                PRIMARY KEY (tenant_id, id)
            )\(strict);
            CREATE INDEX campaign_newest ON campaign (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
            CREATE INDEX campaign_newest_by_status ON campaign (tenant_id, status, created_at DESC, id DESC) WHERE deleted_at IS NULL;
            CREATE UNIQUE INDEX campaign_meta_id ON campaign (tenant_id, meta_campaign_id) WHERE deleted_at IS NULL AND meta_campaign_id IS NOT NULL;
            CREATE TABLE experiment (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                campaign_id TEXT NOT NULL,
                name TEXT NOT NULL,
                metric TEXT NOT NULL,
                status TEXT NOT NULL,
                winner_variant_id TEXT,
                confidence \(real),
                created_at \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, id)
            )\(strict);
            CREATE TABLE experiment_variant (
                tenant_id TEXT NOT NULL,
                experiment_id TEXT NOT NULL,
                id TEXT NOT NULL,
                position \(integer) NOT NULL,
                weight \(real) NOT NULL,
                clip_id TEXT,
                users \(integer) NOT NULL,
                conversions \(integer) NOT NULL,
                revenue \(integer) NOT NULL,
                revenue_sum_squares \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, experiment_id, id)
            )\(strict)
            """
    }

    static func conversionTables(_ dialect: SQLDialect) -> String {
        let (integer, strict) = dialect == .sqlite ? ("INTEGER", " STRICT") : ("BIGINT", "")
        return """
            CREATE TABLE conversion (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                source TEXT NOT NULL,
                external_id TEXT NOT NULL,
                event_name TEXT,
                dedup_event TEXT NOT NULL,
                campaign_id TEXT,
                experiment_id TEXT,
                variant_id TEXT,
                value \(integer) NOT NULL,
                currency TEXT NOT NULL,
                occurred_at \(integer) NOT NULL,
                click_id TEXT,
                touchpoints TEXT NOT NULL,
                created_at \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, id)
            )\(strict);
            CREATE INDEX conversion_newest ON conversion (tenant_id, created_at DESC, id DESC);
            CREATE INDEX conversion_newest_by_campaign ON conversion (tenant_id, campaign_id, created_at DESC, id DESC);
            CREATE INDEX conversion_newest_by_source ON conversion (tenant_id, source, created_at DESC, id DESC);
            CREATE INDEX conversion_by_key ON conversion (tenant_id, source, dedup_event, external_id, occurred_at);
            CREATE TABLE conversion_key (
                tenant_id TEXT NOT NULL,
                source TEXT NOT NULL,
                dedup_event TEXT NOT NULL,
                external_id TEXT NOT NULL,
                PRIMARY KEY (tenant_id, source, dedup_event, external_id)
            )\(strict);
            CREATE TABLE conversion_credit (
                tenant_id TEXT NOT NULL,
                campaign_id TEXT NOT NULL,
                conversion_id TEXT NOT NULL,
                PRIMARY KEY (tenant_id, campaign_id, conversion_id)
            )\(strict)
            """
    }

    /// The tenant the samples belong to.
    public static let defaultTenant = "default"

    public static let schema = ServiceSchema(service: ConversionContracts.service, migrations: migrations) { database in
        try await ConversionSamples.seed(database, tenant: defaultTenant)
    }
}
