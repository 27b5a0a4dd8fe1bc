using Microsoft.Win32.SafeHandles;

namespace Exchange.Server.Transfers;

/// <summary>
/// A local blob read unbuffered (O_DIRECT): each request is read as the aligned range around it
/// into a block buffer and handed out in place, and the next request of the same size is already
/// being read into a second buffer while this one is decrypted. Reading through the page cache
/// instead cost a fifth of the gateway's CPU during a download, for the kernel's copy alone.
/// </summary>
internal sealed class DirectBlobSource : IBlobSource
{
    private readonly SafeFileHandle _file;
    private Block _current;
    private Block _ahead;
    private Task<int>? _reading;
    private long _position;

    private DirectBlobSource(SafeFileHandle file, long position, int maxRead)
    {
        _file = file;
        _position = position;
        // Room for the largest request wherever it starts: the aligned blocks it touches.
        var capacity = Align(maxRead) + DirectFile.Alignment;
        _current = new Block(capacity);
        _ahead = new Block(capacity);
    }

    /// <summary>The blob file at <paramref name="path"/> from <paramref name="offset"/>, or null where the file system refuses direct reads.</summary>
    public static IBlobSource? Open(string path, long offset, int maxRead)
    {
        var file = DirectFile.OpenRead(path, out var direct);
        if (!direct)
        {
            file.Dispose();
            return null;
        }

        return new DirectBlobSource(file, offset, maxRead);
    }

    public async ValueTask<Memory<byte>> ReadAsync(int length, CancellationToken cancellationToken)
    {
        var start = AlignDown(_position);
        var end = Align(_position + length);
        if (!_current.Covers(start, end) && _reading is not null)
        {
            var read = await _reading.WaitAsync(cancellationToken);
            _reading = null;
            _ahead.Filled(read);
            (_current, _ahead) = (_ahead, _current);
        }

        if (!_current.Covers(start, end))
        {
            // Not what was read ahead (the first request, or one of another size).
            _current.Filled(await RandomAccess.ReadAsync(_file, _current.Space(start, end), start, cancellationToken));
        }

        var bytes = _current.Slice(_position, length);
        _position += bytes.Length;
        var nextStart = AlignDown(_position);
        var nextEnd = Align(_position + length);
        if (bytes.Length == length && _reading is null && !_current.Covers(nextStart, nextEnd))
        {
            // The next request is most likely one more of the same size.
            _reading = RandomAccess.ReadAsync(_file, _ahead.Space(nextStart, nextEnd), nextStart).AsTask();
        }

        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        if (_reading is not null)
        {
            // The buffer being read into must not be let go while the device may still write to it.
            await Task.WhenAny(_reading);
        }

        _file.Dispose();
    }

    private static long AlignDown(long position) => position / DirectFile.Alignment * DirectFile.Alignment;

    private static int Align(int length) => checked((int)Align((long)length));

    private static long Align(long position) => (position + DirectFile.Alignment - 1) / DirectFile.Alignment * DirectFile.Alignment;

    /// <summary>An aligned buffer and the range of the file it holds.</summary>
    private sealed class Block
    {
        private readonly byte[] _array;
        private readonly int _start;
        private long _from;
        private int _filled;
        private int _asked;

        public Block(int capacity) => _array = DirectFile.AllocateAligned(capacity, out _start);

        /// <summary>Where to read the aligned range [<paramref name="from"/>, <paramref name="to"/>) of the file.</summary>
        public Memory<byte> Space(long from, long to)
        {
            (_from, _asked, _filled) = (from, (int)(to - from), 0);
            return _array.AsMemory(_start, _asked);
        }

        public void Filled(int read) => _filled = read;

        /// <summary>Whether this block holds [<paramref name="from"/>, <paramref name="to"/>), or the file ends inside it.</summary>
        public bool Covers(long from, long to) =>
            _asked > 0 && from >= _from && (to <= _from + _filled || (_filled < _asked && from <= _from + _filled));

        public Memory<byte> Slice(long position, int length)
        {
            var at = (int)(position - _from);
            return _array.AsMemory(_start + at, Math.Clamp(_filled - at, 0, length));
        }
    }
}
