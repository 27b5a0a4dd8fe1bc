using Exchange.V1;

namespace Exchange.Server.Transfers;

/// <summary>
/// A table delivered otherwise than as stored: in <see cref="Format"/>, shaped by the grant's
/// <see cref="View"/> (null: whole), read from a revision stored as <see cref="Source"/> with <see cref="Columns"/>.
/// </summary>
internal sealed record TableOutput(TableFormat Format, TableFormat Source, View? View, IReadOnlyList<Column> Columns);
