using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Exchange.Server.Tables;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encodes a table as a grant delivers it, while it streams: the decrypted revision flows through
/// a small pipe into a reader on a thread of its own, the view drops, filters and masks each row,
/// and the writer's bytes flow through a second small pipe out as chunks. Memory stays bounded
/// (two pipes, one row, the writer's buffer); the hidden columns' values never leave this class.
/// </summary>
internal static class TableDelivery
{
    private const int PipeBytes = 1024 * 1024;

    /// <summary>The encoded bytes from the start, in chunks of <paramref name="chunkSize"/> (the last shorter); a chunk is valid until the next is asked for.</summary>
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> EncodeAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> stored, TableOutput output,
        ViewPlan plan, int chunkSize, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var input = NewPipe();
        var encoded = NewPipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var feeding = FeedAsync(stored, input.Writer, stop.Token);
        var encoding = Task.Factory.StartNew(() => Encode(input.Reader, encoded.Writer, output, plan), CancellationToken.None,
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
            // However this ends, the other two stages stop: the reader of the encoding goes, and the feeding is cancelled.
            await encoded.Reader.CompleteAsync();
            await stop.CancelAsync();
            await Task.WhenAll(feeding, encoding).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>The first <paramref name="rows"/> rows <paramref name="plan"/> delivers, as text values (empty: null).</summary>
    public static async Task<List<string[]>> PreviewAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> stored, TableOutput output, ViewPlan plan,
        int rows, CancellationToken cancellationToken)
    {
        var input = NewPipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var feeding = FeedAsync(stored, input.Writer, stop.Token);
        try
        {
            return await Task.Factory.StartNew(() =>
            {
                try
                {
                    using var source = input.Reader.AsStream(leaveOpen: true);
                    using var reader = TableIo.Reader(output.Source, source, output.Columns);
                    var collected = new RowCollector(plan.Columns.Count);
                    while (collected.Rows.Count < rows && reader.Read())
                    {
                        plan.Deliver(reader, collected);
                    }

                    return collected.Rows;
                }
                finally
                {
                    input.Reader.Complete();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            await stop.CancelAsync();
            await feeding;
        }
    }

    private static Pipe NewPipe() => new(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2,
        useSynchronizationContext: false));

    private static async Task FeedAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> stored, PipeWriter input, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var chunk in stored.WithCancellation(cancellationToken))
            {
                var flushed = await input.WriteAsync(chunk, cancellationToken);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }

            await input.CompleteAsync();
        }
        catch (Exception ex)
        {
            // The encoder reads this failure (a damaged segment is DATA_LOSS) where the bytes would have been.
            await input.CompleteAsync(ex);
        }
    }

    /// <summary>On a thread of its own: the table formats read and write synchronously.</summary>
    private static void Encode(PipeReader input, PipeWriter encoded, TableOutput output, ViewPlan plan)
    {
        try
        {
            using (var source = input.AsStream(leaveOpen: true))
            using (var sink = encoded.AsStream(leaveOpen: true))
            using (var reader = TableIo.Reader(output.Source, source, output.Columns))
            using (var writer = TableIo.Writer(output.Format, sink, plan.Columns))
            {
                while (reader.Read())
                {
                    plan.Deliver(reader, writer);
                }

                writer.Finish();
            }

            encoded.Complete();
        }
        catch (Exception ex)
        {
            encoded.Complete(ex);
        }
        finally
        {
            input.Complete();
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
