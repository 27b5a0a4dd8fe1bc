using System.Text;
using Exchange.Server.Catalog;
using Exchange.Server.Paging;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Exchange.Tests.Fuzzing;

/// <summary>
/// Property tests over what callers send in: page tokens, policy terms and resource names,
/// random and mutated. Whatever arrives, the answer is a clear INVALID_ARGUMENT (or NOT_FOUND for
/// a well-formed name of nothing), never a crash or an INTERNAL. Seeded, so a failure repeats.
/// </summary>
public sealed class OutsideInputFuzzTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private const int Seed = 20261128;

    /// <summary>Random text of the kinds an attacker tries: base64url noise, unicode, control characters, huge, empty.</summary>
    private static string RandomText(Random random)
    {
        const string Base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var length = random.Next(8) switch
        {
            0 => 0,
            1 => random.Next(1, 4),
            7 => random.Next(1_000, 20_000),
            _ => random.Next(4, 120),
        };
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(random.Next(6) switch
            {
                0 => (char)random.Next(0, 32),
                1 => (char)random.Next(0x80, 0xD7FF),
                2 => "/=+. %*_\\'\""[random.Next(11)],
                _ => Base64Url[random.Next(Base64Url.Length)],
            });
        }

        return text.ToString();
    }

    [Fact]
    public void Page_tokens_random_or_mutated_decode_to_their_position_or_are_invalid_argument()
    {
        var random = new Random(Seed);
        var tokens = new PageTokens(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var valid = tokens.Encode("scope", 1234);
        for (var i = 0; i < 20_000; i++)
        {
            var noise = RandomText(random);
            var candidate = (i % 3) switch
            {
                0 => noise,
                1 => Mutate(valid, random),
                _ => valid[..random.Next(valid.Length)] + noise[..Math.Min(3, noise.Length)],
            };
            try
            {
                var position = tokens.Decode(candidate, "scope");
                Assert.True(candidate == valid || candidate.Length == 0, $"'{candidate}' decoded to {position}");
            }
            catch (RpcException ex)
            {
                Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"'{candidate}': {ex.StatusCode} {ex.Status.Detail}");
            }
        }
    }

    [Fact]
    public void Random_terms_are_accepted_or_invalid_argument_and_accepted_ones_keep_the_rules()
    {
        var random = new Random(Seed);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 20_000; i++)
        {
            var terms = RandomTerms(random);
            try
            {
                // As a call meets them: the text rule for every request, then what terms mean.
                Exchange.Server.Validation.RequestText.Check(new ApproveAccessRequestRequest { Name = "accessRequests/x", Terms = terms });
                TermsValidation.Validate(terms, "terms", now);
                Assert.InRange(terms.Purposes.Count, 0, TermsValidation.MaxPurposes);
                Assert.All(terms.Purposes, p => Assert.True(p.Length > 0 && p.Trim() == p &&
                    Exchange.Server.Validation.RequestText.Problem(p, Exchange.Server.Validation.RequestText.Rules["exchange.v1.Terms.purposes"]) is null));
                Assert.True(terms.MaxTransfers >= 0);
                Assert.True(terms.ExpireTime is null || terms.ExpireTime.ToDateTimeOffset() > now);
            }
            catch (RpcException ex)
            {
                Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"{terms}: {ex.StatusCode} {ex.Status.Detail}");
            }
        }
    }

    [Fact]
    public async Task Through_the_api_random_page_tokens_names_and_terms_never_answer_internal()
    {
        var random = new Random(Seed);
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        using var auditor = Gateway.As(Participant.Auditor);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var unexpected = new List<string>();

        async Task Expect(string what, Func<Task> call, params StatusCode[] allowed)
        {
            try
            {
                await call();
                if (!allowed.Contains(StatusCode.OK))
                {
                    unexpected.Add($"{what}: OK");
                }
            }
            catch (RpcException ex) when (!allowed.Contains(ex.StatusCode))
            {
                unexpected.Add($"{what}: {ex.StatusCode} {ex.Status.Detail}");
            }
            catch (RpcException)
            {
            }
        }

        for (var i = 0; i < 150; i++)
        {
            var text = RandomText(random);
            await Expect($"ListDatasets page_token {text}", () => acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageToken = text }).ResponseAsync,
                StatusCode.InvalidArgument, StatusCode.OK);
            await Expect($"ListAuditEvents page_token {text}", () => auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { PageToken = text }).ResponseAsync,
                StatusCode.InvalidArgument, StatusCode.OK);
            await Expect($"ListGrants page_token {text}", () => initech.Access.ListGrantsAsync(new ListGrantsRequest { PageToken = text }).ResponseAsync,
                StatusCode.InvalidArgument, StatusCode.OK);
            await Expect($"GetDataset {text}", () => acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = text }).ResponseAsync,
                StatusCode.InvalidArgument, StatusCode.NotFound);
            await Expect($"GetGrant grants/{text}", () => initech.Access.GetGrantAsync(new GetGrantRequest { Name = "grants/" + text }).ResponseAsync,
                StatusCode.InvalidArgument, StatusCode.NotFound);
            await Expect($"GetTransfer {text}", () => initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = text }).ResponseAsync,
                StatusCode.InvalidArgument, StatusCode.NotFound);

            var terms = RandomTerms(random);
            var purpose = random.Next(3) == 0 ? RandomText(random) : "research";
            AccessRequest? made = null;
            await Expect($"RequestAccess {purpose} {terms}", async () =>
                made = (await initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset.Name, Purpose = purpose, RequestedTerms = terms })).AccessRequest,
                StatusCode.InvalidArgument, StatusCode.OK);
            if (made is not null)
            {
                await initech.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = made.Name });
            }
        }

        Assert.Empty(unexpected);
    }

    private static Terms RandomTerms(Random random)
    {
        var terms = new Terms { MaxTransfers = random.Next(4) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : random.Next(-2, 20) };
        for (var p = random.Next(random.Next(10) == 0 ? 40 : 4); p > 0; p--)
        {
            terms.Purposes.Add(random.Next(4) == 0 ? RandomText(random) : $"purpose-{random.Next(6)}");
        }

        terms.ExpireTime = random.Next(4) switch
        {
            0 => null,
            1 => new Timestamp { Seconds = random.NextInt64(long.MinValue, long.MaxValue), Nanos = random.Next(int.MinValue, int.MaxValue) },
            2 => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(random.Next(-400, 400))),
            _ => new Timestamp { Seconds = random.Next(-1, 2), Nanos = random.Next(-5, 5) },
        };
        return terms;
    }

    private static string Mutate(string token, Random random)
    {
        var chars = token.ToCharArray();
        for (var n = random.Next(1, 4); n > 0 && chars.Length > 0; n--)
        {
            chars[random.Next(chars.Length)] = "ABCxyz019-_"[random.Next(11)];
        }

        return new string(chars);
    }
}
