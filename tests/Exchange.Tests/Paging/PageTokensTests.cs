using System.Security.Cryptography;
using Exchange.Server.Paging;
using Grpc.Core;

namespace Exchange.Tests.Paging;

public sealed class PageTokensTests
{
    private static PageTokens WithKey(byte[]? key = null) => new(key ?? RandomNumberGenerator.GetBytes(32));

    [Theory]
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void A_token_round_trips_for_its_own_scope(long position)
    {
        var tokens = WithKey();
        Assert.Equal(position, tokens.Decode(tokens.Encode("scope", position), "scope"));
    }

    [Fact]
    public void An_empty_token_is_the_first_page() => Assert.Equal(0, WithKey().Decode("", "scope"));

    [Fact]
    public void A_token_from_another_exchange_is_refused()
    {
        var theirs = WithKey().Encode("scope", 42);
        var ex = Assert.Throws<RpcException>(() => WithKey().Decode(theirs, "scope"));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
    }

    [Fact]
    public void Every_single_bit_flip_is_refused()
    {
        var tokens = WithKey();
        var raw = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(tokens.Encode("scope", 7));
        for (var bit = 0; bit < raw.Length * 8; bit++)
        {
            var copy = (byte[])raw.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var forged = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(copy);
            Assert.Throws<RpcException>(() => tokens.Decode(forged, "scope"));
        }
    }

    [Fact]
    public void Random_input_never_crashes_and_is_always_invalid_argument()
    {
        var tokens = WithKey();
        var random = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var length = random.Next(0, 80);
            var chars = Enumerable.Range(0, length).Select(_ => (char)random.Next(32, 127)).ToArray();
            var input = new string(chars);
            if (input.Length == 0)
            {
                continue;
            }

            var ex = Assert.Throws<RpcException>(() => tokens.Decode(input, "scope"));
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        }
    }

    [Theory]
    [InlineData(0, 50)]
    [InlineData(1, 1)]
    [InlineData(500, 500)]
    [InlineData(501, 500)]
    [InlineData(int.MaxValue, 500)]
    public void Page_size_defaults_and_caps(int requested, int expected) => Assert.Equal(expected, PageSize.Resolve(requested));

    [Fact]
    public void Negative_page_size_is_invalid() =>
        Assert.Equal(StatusCode.InvalidArgument, Assert.Throws<RpcException>(() => PageSize.Resolve(-5)).StatusCode);
}
