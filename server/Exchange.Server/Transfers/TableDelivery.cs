using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Exchange.Server.Tables;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encodes a table as a grant delivers it, while it streams: on a thread of its own (the table
/// formats read and write synchronously) the stored revision is read through its decrypting
/// stream, the view drops, filters and masks each row, and the writer's bytes flow through a small
/// pipe out as chunks. Memory stays bounded (one segment, the pipe, one row or row group, the
/// writer's buffer); the hidden columns' values never leave this class.
/// </summary>
internal static class TableDelivery
{
    private const int PipeBytes = 1024 * 1024;

    /// <summary>
    /// The encoded bytes from the start, in chunks of <paramref name="chunkSize"/> (the last shorter);
    /// a chunk is valid until the next is asked for. <paramref name="stored"/> is disposed when done.
    /// </summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> EncodeAsync(Stream stored, TableOutput output, ViewPlan plan, int chunkSize,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var encoded = new Pipe(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2, useSynchronizationContext: false));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var encoding = Task.Factory.StartNew(() => Encode(stored, encoded.Writer, output, plan, stop.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var chunk = new byte[chunkSize];
        try
        {
            var filled = 0;
            while (true)
            {
                var read = await encoded.Reader.ReadAsync(stop.Token);
                var buffer = read.Buffer;
                while (!buffer.IsEmpty)
                {
                    var take = (int)Math.Min(buffer.Length, chunkSize - filled);
                    buffer.Slice(0, take).CopyTo(chunk.AsSpan(filled));
                    buffer = buffer.Slice(take);
                    filled += take;
                    if (filled == chunkSize)
                    {
                        yield return chunk;
                        filled = 0;
                    }
                }

                encoded.Reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            if (filled > 0)
            {
                yield return chunk.AsMemory(0, filled);
            }
        }
        finally
        {
            // However this ends, the encoder stops: it checks the token between rows, and its writes find no reader.
            await stop.CancelAsync();
            await encoded.Reader.CompleteAsync();
            try
            {
                await encoding;
            }
            catch (OperationCanceledException)
            {
                // It stopped because this did.
            }
        }
    }

    /// <summary>The first <paramref name="rows"/> rows <paramref name="plan"/> delivers, as text values (empty: null).</summary>
    public static Task<List<string[]>> PreviewAsync(Stream stored, TableOutput output, ViewPlan plan, int rows, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            using (stored)
            {
                using var reader = TableFormatsIo.Reader(output.Source, stored, output.Columns);
                var collected = new RowCollector(plan.Columns.Count);
                while (collected.Rows.Count < rows && reader.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    plan.Deliver(reader, collected);
                }

                return collected.Rows;
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void Encode(Stream stored, PipeWriter encoded, TableOutput output, ViewPlan plan, CancellationToken cancellationToken)
    {
        try
        {
            using (stored)
            using (var sink = encoded.AsStream(leaveOpen: true))
            using (var reader = TableFormatsIo.Reader(output.Source, stored, output.Columns))
            using (var writer = TableFormatsIo.Writer(output.Format, sink, plan.Columns))
            {
                var rows = 0;
                while (reader.Read())
                {
                    if ((++rows & 1023) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    plan.Deliver(reader, writer);
                }

                writer.Finish();
            }

            encoded.Complete();
        }
        catch (Exception ex)
        {
            encoded.Complete(ex);
            if (ex is OperationCanceledException)
            {
                throw;
            }
        }
    }

    /// <summary>Keeps delivered rows as text, for a preview.</summary>
    private sealed class RowCollector(int width) : ITableWriter
    {
        private string[] _row = NewRow(width);

        public List<string[]> Rows { get; } = [];

        public void Set(int column, ReadOnlySpan<char> value) => _row[column] = value.ToString();

        public void EndRow()
        {
            Rows.Add(_row);
            _row = NewRow(width);
        }

        public void Finish()
        {
        }

        public void Dispose()
        {
        }

        private static string[] NewRow(int width) => [.. Enumerable.Repeat("", width)];
    }
}
