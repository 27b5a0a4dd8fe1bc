using Exchange.V1;

namespace Exchange.Server.Compute;

/// <summary>A column of a loaded table: its name in the revision, its type, and its generated name in the engine (c0, c1, …).</summary>
internal sealed record TableColumn(string Name, ColumnType Type, string EngineName);
