using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Exchange.Server.Tables;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encodes a table as a grant delivers it, while it streams: the stored revision is read through
/// its decrypting stream and filtered on one thread, the kept rows masked and written on another,
/// and the writer's bytes flow through a small pipe out as chunks. Memory stays bounded (one
/// segment, a few blocks of rows, the pipe, the writer's buffer or row group); the hidden columns'
/// values never leave this class.
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
        // 64 KiB segments, not the default 4 KiB: fewer segments to chain and copy out of.
        var encoded = new Pipe(new PipeOptions(pauseWriterThreshold: PipeBytes, resumeWriterThreshold: PipeBytes / 2, minimumSegmentSize: 64 * 1024,
            useSynchronizationContext: false));
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
                using var reader = TableFormats.Reader(output.Source, stored, output.Columns);
                var collected = new RowCollector(plan.Columns.Count);
                var masks = plan.NewMasks();
                try
                {
                    while (collected.Rows.Count < rows && reader.Read())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        plan.Deliver(reader, collected, masks);
                    }
                }
                finally
                {
                    ColumnMask.DisposeAll(masks);
                }

                return collected.Rows;
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// On threads of their own (the table formats read and write synchronously): this one reads and
    /// filters, handing blocks of rows to a second that masks and writes them, so a delivery uses
    /// two cores. A failure of either stops both; the output is then never finished as if complete.
    /// </summary>
    private static void Encode(Stream stored, PipeWriter encoded, TableOutput output, ViewPlan plan, CancellationToken cancellationToken)
    {
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var full = new BlockingCollection<RowBlock>(boundedCapacity: 2);
            using var free = new BlockingCollection<RowBlock>();
            for (var i = 0; i < 3; i++)
            {
                free.Add(new RowBlock(plan.Columns.Count));
            }

            using (stored)
            using (var sink = encoded.AsStream(leaveOpen: true))
            using (var writer = TableFormats.Writer(output.Format, sink, plan.Columns))
            {
                var writing = Task.Factory.StartNew(() => Write(full, free, plan, writer, stop), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default);
                Exception? failed = null;
                var masks = plan.NewMasks();
                try
                {
                    using var reader = TableFormats.Reader(output.Source, stored, output.Columns);
                    // Masks can be much of the work (a hash, a tenth of a microsecond a value): every other
                    // block is masked here, the rest by the writer, so both threads share it. The bytes are the same.
                    var blocks = 0;
                    var block = free.Take(stop.Token);
                    while (reader.Read())
                    {
                        if (!plan.Includes(reader))
                        {
                            continue;
                        }

                        block.Add(reader, plan);
                        if (block.IsFull)
                        {
                            if ((++blocks & 1) == 0)
                            {
                                block.Mask(masks);
                            }

                            full.Add(block, stop.Token);
                            block = free.Take(stop.Token);
                        }
                    }

                    full.Add(block, stop.Token);
                }
                catch (Exception ex)
                {
                    failed = ex;
                    stop.Cancel();
                }
                finally
                {
                    full.CompleteAdding();
                    ColumnMask.DisposeAll(masks);
                }

                try
                {
                    writing.GetAwaiter().GetResult();
                }
                catch (Exception) when (failed is not null and not OperationCanceledException)
                {
                    // The writer stopped because the reading failed: that failure is the one to tell.
                }

                if (failed is not null)
                {
                    ExceptionDispatchInfo.Throw(failed);
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

    private static void Write(BlockingCollection<RowBlock> full, BlockingCollection<RowBlock> free, ViewPlan plan, ITableWriter writer,
        CancellationTokenSource stop)
    {
        var masks = plan.NewMasks();
        try
        {
            foreach (var block in full.GetConsumingEnumerable(stop.Token))
            {
                if (!block.Masked)
                {
                    block.Mask(masks);
                }

                for (var row = 0; row < block.Count; row++)
                {
                    for (var column = 0; column < plan.Columns.Count; column++)
                    {
                        writer.Set(column, block[row, column]);
                    }

                    writer.EndRow();
                }

                block.Clear();
                free.Add(block);
            }
        }
        catch
        {
            // The reader must not wait for blocks nobody takes.
            stop.Cancel();
            throw;
        }
        finally
        {
            ColumnMask.DisposeAll(masks);
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
