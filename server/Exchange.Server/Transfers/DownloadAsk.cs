using Exchange.Server.Access;
using Exchange.Server.Catalog;

namespace Exchange.Server.Transfers;

/// <summary>
/// A download as asked, its names parsed: under <see cref="Grant"/>, of <see cref="Revision"/> (none:
/// the latest), for <see cref="Purpose"/>, from <see cref="Offset"/>, resuming <see cref="Resume"/>,
/// a table in <see cref="Format"/> (unspecified: its own); <see cref="RequestId"/> and
/// <see cref="Fingerprint"/> recognise a retry.
/// </summary>
internal sealed record DownloadAsk(GrantId Grant, RevisionId? Revision, string Purpose, long Offset, TransferId? Resume, string RequestId,
    byte[] Fingerprint, V1.TableFormat Format = V1.TableFormat.Unspecified);
