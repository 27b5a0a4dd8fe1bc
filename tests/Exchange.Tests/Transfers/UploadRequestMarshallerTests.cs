using System.Buffers;
using System.Security.Cryptography;
using Exchange.Server.Transfers;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Tests.Transfers;

/// <summary>Chunks are read into pooled buffers with exactly the generated parser's result; everything else is the generated parser's.</summary>
public sealed class UploadRequestMarshallerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(127, 1)]
    [InlineData(128, 1)]
    [InlineData(262_144, 1)]
    [InlineData(262_144, 7)]
    [InlineData(PooledChunk.MaxPooled, 3)]
    public void A_chunk_is_read_into_a_pooled_buffer_whole_however_the_transport_split_it(int length, int pieces)
    {
        var message = new UploadRequest { Chunk = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(length)) };

        var parsed = UploadRequestMarshaller.Parse(new Payload(message.ToByteArray(), pieces));

        Assert.Equal(message, parsed);
        using var chunk = PooledChunk.Owning(parsed.Chunk.Memory);
        Assert.NotNull(chunk);
        // Nothing may pin a buffer that goes back to the pool.
        Assert.Throws<NotSupportedException>(() => parsed.Chunk.Memory.Pin());
    }

    [Fact]
    public void A_chunk_larger_than_the_pooled_size_is_read_as_the_generated_parser_reads_it()
    {
        var bytes = new UploadRequest { Chunk = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(PooledChunk.MaxPooled + 1)) }.ToByteArray();

        var parsed = UploadRequestMarshaller.Parse(new Payload(bytes, 2));

        Assert.Equal(UploadRequest.Parser.ParseFrom(bytes), parsed);
        Assert.Null(PooledChunk.Owning(parsed.Chunk.Memory));
    }

    [Fact]
    public void A_given_back_chunk_cannot_be_read_again()
    {
        var parsed = UploadRequestMarshaller.Parse(new Payload(new UploadRequest { Chunk = ByteString.CopyFrom(new byte[100]) }.ToByteArray(), 1));
        var memory = parsed.Chunk.Memory;

        ((IDisposable)PooledChunk.Owning(memory)!).Dispose();

        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
    }

    public static TheoryData<byte[]> NotAPlainChunk => new()
    {
        new UploadRequest { Header = new UploadHeader { Dataset = "datasets/x", MediaType = "text/csv", SizeBytes = 10 } }.ToByteArray(),
        new UploadRequest { Chunk = ByteString.Empty }.ToByteArray(),
        Array.Empty<byte>(),
        // A chunk followed by an unknown field, and two chunks (the last one wins).
        Chunk("abc").Concat(new byte[] { 9 << 3, 42 }).ToArray(),
        Chunk("abc").Concat(Chunk("xy")).ToArray(),
    };

    private static byte[] Chunk(string text) => new UploadRequest { Chunk = ByteString.CopyFromUtf8(text) }.ToByteArray();

    [Theory]
    [MemberData(nameof(NotAPlainChunk))]
    public void Anything_else_is_read_as_the_generated_parser_reads_it(byte[] bytes)
    {
        var parsed = UploadRequestMarshaller.Parse(new Payload(bytes, 1));

        Assert.Equal(UploadRequest.Parser.ParseFrom(bytes), parsed);
        Assert.Null(PooledChunk.Owning(parsed.Chunk.Memory));
    }

    [Theory]
    [InlineData(new byte[] { (2 << 3) | 2, 5, 1, 2, 3 })]
    [InlineData(new byte[] { (2 << 3) | 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })]
    public void A_damaged_message_is_refused_as_the_generated_parser_refuses_it(byte[] bytes)
    {
        Assert.Throws<InvalidProtocolBufferException>(() => UploadRequest.Parser.ParseFrom(bytes));
        Assert.Throws<InvalidProtocolBufferException>(() => UploadRequestMarshaller.Parse(new Payload(bytes, 1)));
    }

    /// <summary>A received message as the transport hands it over, in <paramref name="pieces"/> segments.</summary>
    private sealed class Payload(byte[] bytes, int pieces) : DeserializationContext
    {
        public override int PayloadLength => bytes.Length;

        public override byte[] PayloadAsNewBuffer() => bytes.ToArray();

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence()
        {
            if (pieces == 1 || bytes.Length < pieces)
            {
                return new ReadOnlySequence<byte>(bytes);
            }

            var size = bytes.Length / pieces;
            var first = new Piece(bytes.AsMemory(0, size), 0);
            var last = first;
            for (var at = size; at < bytes.Length; at += size)
            {
                last = last.Append(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)));
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }

    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Piece Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Piece(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
