import BusWire
import NIOConcurrencyHelpers
import ServiceKit
import Storage

/// Every tenant's embeddings in memory, one ``VectorIndex`` each, kept
/// equal to the database, which stays the truth.
///
/// Each knowledge change increments its tenant's revision in the system
/// table `knowledge_tenant` and stamps the document with it; the increment
/// holds that row's lock until the change commits, so revisions become
/// visible in order. Catching up is reading the documents stamped after the
/// revision the index holds, and applying their current state (an upsert,
/// or a removal for deleted ones and ones without an embedding). Every
/// search catches up first (one indexed read when nothing changed), and so
/// does every write of this process after it commits; a change made
/// through another instance of the service is seen by the next search here.
final class KnowledgeVectors: Sendable {
    /// One tenant's index and the revision it reflects; `lock` is held while catching up.
    final class TenantVectors: @unchecked Sendable {
        // Mutated only under `lock`; `index` is itself safe for concurrent searches.
        let lock = NIOLock()
        var index: VectorIndex?
        var revision: Int64 = 0
    }

    private let tenants = NIOLockedValueBox<[String: TenantVectors]>([:])

    func vectors(of tenant: String) -> TenantVectors {
        tenants.withLockedValue { tenants in
            if let vectors = tenants[tenant] { return vectors }
            let vectors = TenantVectors()
            tenants[tenant] = vectors
            return vectors
        }
    }

    /// Brings `tenant`'s index up to the database's revision and returns it
    /// (nil while the tenant has no embedding). Runs in `session`, a read of that tenant.
    @discardableResult
    func catchUp(_ session: any DatabaseSession, tenant: String) throws -> VectorIndex? {
        let vectors = vectors(of: tenant)
        return try vectors.lock.withLock {
            guard let state = try session.queryFirst("SELECT dimensions, revision FROM knowledge_tenant WHERE tenant = \(tenant)") else { return vectors.index }
            let revision: Int64 = try state["revision"]
            guard revision > vectors.revision else { return vectors.index }
            if vectors.index == nil, let dimensions: Int = try state["dimensions"] { vectors.index = VectorIndex(dimensions: dimensions) }
            let changed = try session.query("""
                SELECT id, category, embedding, deleted_at, revision FROM knowledge_document
                WHERE tenant_id = \(tenant) AND revision > \(vectors.revision)
                """)
            var newest = revision
            for row in changed {
                let id: String = try row["id"]
                let deleted: Int64? = try row["deleted_at"]
                newest = max(newest, try row["revision"])
                guard deleted == nil, let embedding: EmbeddingBlob = try row["embedding"] else {
                    vectors.index?.remove(id: id)
                    continue
                }
                // The first embedding fixed the dimension, possibly after the state above was read.
                let index = vectors.index ?? VectorIndex(dimensions: embedding.vector.count)
                vectors.index = index
                do {
                    try index.upsert(id: id, vector: embedding.vector, category: try row["category"])
                } catch {
                    throw BusError(.internal, "document \(id)'s stored embedding does not fit the tenant's index: \(error)")
                }
            }
            // Rows committed after the revision was read are applied too; nothing at or below the newest is missing.
            vectors.revision = newest
            return vectors.index
        }
    }

    /// Builds every tenant's index from the database (at start).
    func load(from store: ServiceStore) async throws(BusError) {
        let tenants = try await store.readSystem { session in
            try session.query("SELECT tenant FROM knowledge_tenant WHERE dimensions IS NOT NULL").map { row in try row["tenant"] as String }
        }
        for tenant in tenants {
            _ = try await store.read(tenant: tenant) { session in try self.catchUp(session, tenant: tenant) != nil }
        }
    }

    /// Embeddings held, over all tenants (for reports).
    var count: Int { tenants.withLockedValue { $0.values.reduce(0) { $0 + ($1.index?.count ?? 0) } } }
}
