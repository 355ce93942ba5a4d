import { EntryStatus, ManifestEntry, ManifestFile } from './manifest';
import { TableMetadata } from './metadata';

/** When and how a snapshot's manifests are merged: Java's table properties, with its defaults. */
export interface ManifestMergePolicy {
  readonly enabled: boolean;
  /** A content's manifests a snapshot may list before small ones are merged (commit.manifest.min-count-to-merge). */
  readonly minCountToMerge: number;
  /** Size a merged manifest aims for; bigger manifests are left alone (commit.manifest.target-size-bytes). */
  readonly targetBytes: number;
}

export function manifestMergePolicy(metadata: TableMetadata): ManifestMergePolicy {
  const property = (key: string, fallback: number) => {
    const value = Number(metadata.properties[key]);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    enabled: metadata.properties['commit.manifest-merge.enabled'] !== 'false',
    minCountToMerge: property('commit.manifest.min-count-to-merge', 100),
    targetBytes: property('commit.manifest.target-size-bytes', 8 * 1024 * 1024),
  };
}

/**
 * A manifest of DELETED entries only, written by an earlier snapshot: it told that snapshot's
 * readers of incremental changes what it removed, and nothing later needs it (the files stay
 * reachable through the older snapshots that list them live, until those expire).
 */
export function isSpent(manifest: ManifestFile): boolean {
  return manifest.addedFilesCount === 0 && manifest.existingFilesCount === 0;
}

/** Manifests merged together share a content and a partition spec (a manifest holds files of one spec). */
export function mergeGroup(manifest: ManifestFile): string {
  return `${manifest.content}/${manifest.partitionSpecId}`;
}

/**
 * Which carried manifests to merge, in bins of about the target size: only in a group that would
 * list more than the minimum count, only manifests under the target size, smallest first, and
 * only bins of two or more. `fresh` (this snapshot's new manifests) count but are never merged,
 * so their entries stay ADDED for readers of incremental changes.
 */
export function manifestsToMerge(carried: readonly ManifestFile[], fresh: readonly ManifestFile[], policy: ManifestMergePolicy): ManifestFile[][] {
  if (!policy.enabled) return [];
  const bins: ManifestFile[][] = [];
  const groups = new Map<string, ManifestFile[]>();
  for (const manifest of carried) groups.set(mergeGroup(manifest), [...(groups.get(mergeGroup(manifest)) ?? []), manifest]);
  for (const [group, manifests] of groups) {
    const listed = manifests.length + fresh.filter((m) => mergeGroup(m) === group).length;
    if (listed <= policy.minCountToMerge) continue;
    let bin: ManifestFile[] = [];
    let bytes = 0;
    for (const manifest of manifests.filter((m) => m.length < policy.targetBytes).sort((a, b) => a.length - b.length)) {
      if (bin.length > 0 && bytes + manifest.length > policy.targetBytes) {
        bins.push(bin);
        bin = [];
        bytes = 0;
      }
      bin.push(manifest);
      bytes += manifest.length;
    }
    bins.push(bin);
  }
  return bins.filter((bin) => bin.length >= 2);
}

/**
 * The entries a merged manifest keeps: the live ones, as EXISTING with their snapshot id and
 * sequence numbers written out (the spec: only ADDED entries may inherit them); DELETED entries
 * of earlier snapshots are dropped.
 */
export function mergedEntries(entries: readonly ManifestEntry[]): ManifestEntry[] {
  return entries
    .filter((e) => e.status !== EntryStatus.Deleted)
    .map((e) => ({ ...e, status: EntryStatus.Existing, fileSequenceNumber: e.fileSequenceNumber ?? e.sequenceNumber }));
}
