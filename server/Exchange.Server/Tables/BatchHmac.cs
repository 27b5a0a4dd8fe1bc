using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Exchange.Server.Tables;

/// <summary>
/// HMAC-SHA256 of many short values at once under one key, for the hash mask: eight values in the
/// lanes of 256-bit vectors. Through the platform's library one value's HMAC costs about half a
/// microsecond here, nearly all of it the call rather than the two SHA-256 blocks a short value
/// needs (the key's padded blocks are hashed once, here, not per value). Values too long for one
/// block, and machines without 256-bit vectors, take the library's HMAC. Every MAC is the
/// library's, bit for bit (BatchHmacTests compares them on random keys and values).
/// </summary>
internal sealed class BatchHmac : IDisposable
{
    /// <summary>The longest value whose HMAC takes one block after the key's: 64 bytes less the 0x80 end mark and the 8-byte bit length.</summary>
    public const int MaxShort = 55;

    private const int Lanes = 8;
    private const int BlockBytes = 64;

    private static readonly uint[] RoundConstants =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    private static readonly uint[] InitialState = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

    private static readonly bool Vectorised = Vector256.IsHardwareAccelerated;

    private readonly IncrementalHash _library;

    // The SHA-256 state after the key's inner (0x36) and outer (0x5c) padded block, the same in every lane.
    private readonly Vector256<uint>[] _inner = new Vector256<uint>[8];
    private readonly Vector256<uint>[] _outer = new Vector256<uint>[8];

    public BatchHmac(byte[] key)
    {
        _library = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        if (!Vectorised)
        {
            return;
        }

        Span<byte> padded = stackalloc byte[BlockBytes];
        padded.Clear();
        if (key.Length > BlockBytes)
        {
            SHA256.HashData(key, padded);
        }
        else
        {
            key.CopyTo(padded);
        }

        KeyState(padded, 0x36, _inner);
        KeyState(padded, 0x5c, _outer);
    }

    /// <summary>
    /// Writes the HMAC of value <c>i</c> (<paramref name="data"/> from <paramref name="starts"/>[i],
    /// <paramref name="lengths"/>[i] bytes) to the 32 bytes of <paramref name="macs"/> from <c>32 * i</c>.
    /// </summary>
    public void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Span<byte> macs)
    {
        Span<int> pending = stackalloc int[Lanes];
        var waiting = 0;
        for (var i = 0; i < starts.Length; i++)
        {
            var value = data.Slice(starts[i], lengths[i]);
            if (!Vectorised || value.Length > MaxShort)
            {
                _library.AppendData(value);
                _library.GetHashAndReset(macs.Slice(32 * i, 32));
                continue;
            }

            pending[waiting++] = i;
            if (waiting == Lanes)
            {
                ComputeLanes(data, starts, lengths, pending, macs);
                waiting = 0;
            }
        }

        if (waiting > 0)
        {
            ComputeLanes(data, starts, lengths, pending[..waiting], macs);
        }
    }

    public void Dispose() => _library.Dispose();

    /// <summary>The HMACs of up to eight short values, one per lane; an unused lane hashes nothing.</summary>
    private void ComputeLanes(ReadOnlySpan<byte> data, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, ReadOnlySpan<int> values, Span<byte> macs)
    {
        // Each value as its one final block (value, 0x80, zeros, the bit length after the key's block),
        // its sixteen big-endian words spread across the lanes: word t of lane i at 8t + i.
        Span<uint> words = stackalloc uint[16 * Lanes];
        words.Clear();
        Span<byte> block = stackalloc byte[BlockBytes];
        for (var lane = 0; lane < values.Length; lane++)
        {
            var i = values[lane];
            block.Clear();
            data.Slice(starts[i], lengths[i]).CopyTo(block);
            block[lengths[i]] = 0x80;
            BinaryPrimitives.WriteUInt64BigEndian(block[56..], (ulong)(BlockBytes + lengths[i]) * 8);
            for (var t = 0; t < 16; t++)
            {
                words[(t * Lanes) + lane] = BinaryPrimitives.ReadUInt32BigEndian(block[(4 * t)..]);
            }
        }

        Span<Vector256<uint>> schedule = stackalloc Vector256<uint>[64];
        for (var t = 0; t < 16; t++)
        {
            schedule[t] = Vector256.Create<uint>(words.Slice(t * Lanes, Lanes));
        }

        Span<Vector256<uint>> state = stackalloc Vector256<uint>[8];
        _inner.CopyTo(state);
        Compress(state, schedule);

        // The outer block is the inner digest (already eight words, lane by lane), 0x80, zeros and the bit length.
        state.CopyTo(schedule);
        schedule[8] = Vector256.Create(0x80000000u);
        for (var t = 9; t < 15; t++)
        {
            schedule[t] = Vector256<uint>.Zero;
        }

        schedule[15] = Vector256.Create((uint)(BlockBytes + 32) * 8);
        _outer.CopyTo(state);
        Compress(state, schedule);

        for (var lane = 0; lane < values.Length; lane++)
        {
            var mac = macs.Slice(32 * values[lane], 32);
            for (var word = 0; word < 8; word++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(mac[(4 * word)..], state[word].GetElement(lane));
            }
        }
    }

    private static void KeyState(ReadOnlySpan<byte> key, byte pad, Span<Vector256<uint>> state)
    {
        Span<Vector256<uint>> schedule = stackalloc Vector256<uint>[64];
        for (var t = 0; t < 16; t++)
        {
            var word = BinaryPrimitives.ReadUInt32BigEndian(key[(4 * t)..]) ^ (pad * 0x01010101u);
            schedule[t] = Vector256.Create(word);
        }

        for (var i = 0; i < 8; i++)
        {
            state[i] = Vector256.Create(InitialState[i]);
        }

        Compress(state, schedule);
    }

    /// <summary>SHA-256's compression of one block per lane into <paramref name="state"/>; the block's words are the first sixteen of <paramref name="schedule"/>.</summary>
    private static void Compress(Span<Vector256<uint>> state, Span<Vector256<uint>> schedule)
    {
        for (var t = 16; t < 64; t++)
        {
            var w2 = schedule[t - 2];
            var w15 = schedule[t - 15];
            var sigma0 = Rotate(w15, 7) ^ Rotate(w15, 18) ^ Vector256.ShiftRightLogical(w15, 3);
            var sigma1 = Rotate(w2, 17) ^ Rotate(w2, 19) ^ Vector256.ShiftRightLogical(w2, 10);
            schedule[t] = schedule[t - 16] + sigma0 + schedule[t - 7] + sigma1;
        }

        var (a, b, c, d) = (state[0], state[1], state[2], state[3]);
        var (e, f, g, h) = (state[4], state[5], state[6], state[7]);
        for (var t = 0; t < 64; t++)
        {
            var sum1 = Rotate(e, 6) ^ Rotate(e, 11) ^ Rotate(e, 25);
            var choose = (e & f) ^ Vector256.AndNot(g, e);
            var t1 = h + sum1 + choose + Vector256.Create(RoundConstants[t]) + schedule[t];
            var sum0 = Rotate(a, 2) ^ Rotate(a, 13) ^ Rotate(a, 22);
            var majority = (a & b) ^ (a & c) ^ (b & c);
            (h, g, f, e) = (g, f, e, d + t1);
            (d, c, b, a) = (c, b, a, t1 + sum0 + majority);
        }

        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }

    private static Vector256<uint> Rotate(Vector256<uint> value, [ConstantExpected] byte bits) => Avx512F.VL.IsSupported
        ? Avx512F.VL.RotateRight(value, bits)
        : Vector256.ShiftRightLogical(value, bits) | Vector256.ShiftLeft(value, 32 - bits);
}
