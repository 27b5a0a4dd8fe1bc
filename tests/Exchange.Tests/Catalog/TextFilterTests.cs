using Exchange.Server.Catalog;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Security;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Catalog;

/// <summary>
/// ListDatasets' text filter, whichever index serves it, answers as the plain LIKEs did: a
/// substring of the title, the description or one tag, ASCII letters in either case, '%', '_'
/// and '!' meaning themselves, never a match across two fields or two tags; and it still does
/// after titles and tags change. The expected answers are worked out here, from the fields.
/// </summary>
public sealed class TextFilterTests : IDisposable
{
    // Quotes and LIKE's metacharacters, letters in both cases (ASCII only: lower() folds no other), a space.
    private const string Alphabet = "aAbBcC%_!\"' É\u00e9";
    private const string TagAlphabet = "abc_.-";

    private static readonly Caller Provider = new("acme", new HashSet<string> { Roles.Provider });

    private readonly ExchangeFactory _factory = new();
    private readonly Random _random = new(20_261_201);
    private readonly Dictionary<DatasetId, DatasetFields> _fields = [];

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task The_text_filter_matches_a_substring_of_one_field_or_one_tag()
    {
        var store = _factory.Services.GetRequiredService<CatalogStore>();
        var order = new List<DatasetId>();
        for (var i = 0; i < 60; i++)
        {
            var fields = NewFields();
            var created = (await store.CreateAsync(Provider, fields, "", [], CancellationToken.None)).Value;
            order.Add(created.Id);
            _fields[created.Id] = fields;
        }

        await AssertAnswersAsync(store, order);

        // The index follows changed titles, descriptions and tags (and forgets the old ones).
        var old = _fields.ToDictionary();
        for (var i = 0; i < order.Count; i++)
        {
            var id = order[i];
            if (i % 3 == 0)
            {
                var fields = NewFields();
                string[] paths = i % 2 == 0 ? ["title", "tags", "description"] : ["title", "tags"];
                await store.UpdateAsync(Provider, id, fields, paths, CancellationToken.None);
                _fields[id] = _fields[id] with { Title = fields.Title, Tags = fields.Tags, Description = i % 2 == 0 ? fields.Description : _fields[id].Description };
            }
            else if (i % 3 == 1)
            {
                await store.UpdateAsync(Provider, id, _fields[id] with { Tags = [] }, ["tags"], CancellationToken.None);
                _fields[id] = _fields[id] with { Tags = [] };
            }
        }

        await AssertAnswersAsync(store, order, old.Values);
    }

    private async Task AssertAnswersAsync(CatalogStore store, List<DatasetId> order, IEnumerable<DatasetFields>? formerly = null)
    {
        foreach (var text in Queries(formerly ?? []))
        {
            var expected = order.Where(id => Matches(_fields[id], text)).ToList();
            var found = new List<DatasetId>();
            long? after = 0;
            while (after is { } position)
            {
                var (page, next) = await store.ListAsync(new DatasetQuery(text, null, null, Classification.Unspecified, null),
                    Provider.Participant, readsEverything: false, position, pageSize: 7, CancellationToken.None);
                found.AddRange(page.Select(d => d.Id));
                after = next;
            }

            Assert.True(expected.SequenceEqual(found),
                $"'{text}': expected {string.Join(", ", expected.Select(id => order.IndexOf(id)))}; found {string.Join(", ", found.Select(id => order.IndexOf(id)))}");
        }
    }

    /// <summary>Texts to look for: random ones of 1-5 characters, pieces of the fields (any case), and pieces that span two fields or tags.</summary>
    private IEnumerable<string> Queries(IEnumerable<DatasetFields> formerly)
    {
        for (var i = 0; i < 150; i++)
        {
            yield return Text(Alphabet, 1, 5);
        }

        foreach (var fields in _fields.Values.Concat(formerly))
        {
            yield return FlipCase(Piece(fields.Title));
            yield return FlipCase(Piece(fields.Description.Replace('\n', ' ')));
            if (fields.Tags.Count > 0)
            {
                yield return FlipCase(Piece(fields.Tags[_random.Next(fields.Tags.Count)]));
            }

            yield return fields.Title[^Math.Min(2, fields.Title.Length)..] + fields.Description[..Math.Min(2, fields.Description.Length)].Replace('\n', ' ');
            if (fields.Tags.Count > 1)
            {
                yield return fields.Tags[0][^1..] + fields.Tags[1][..2];
                yield return fields.Tags[0][^2..] + "," + fields.Tags[1][..1];
            }
        }
    }

    private static bool Matches(DatasetFields fields, string text)
    {
        var folded = AsciiLower(text);
        return AsciiLower(fields.Title).Contains(folded, StringComparison.Ordinal)
            || AsciiLower(fields.Description).Contains(folded, StringComparison.Ordinal)
            || fields.Tags.Any(tag => tag.Contains(folded, StringComparison.Ordinal));
    }

    private static string AsciiLower(string text) => string.Concat(text.Select(c => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c));

    private DatasetFields NewFields()
    {
        var tags = Enumerable.Range(0, _random.Next(4)).Select(_ => Text(TagAlphabet, 2, 4)).Distinct().ToList();
        return new DatasetFields(Text(Alphabet, 3, 10), Text(Alphabet + "\n", 2, 10), tags, Classification.Public, null);
    }

    private string Text(string alphabet, int min, int max) =>
        string.Concat(Enumerable.Range(0, _random.Next(min, max + 1)).Select(_ => alphabet[_random.Next(alphabet.Length)]));

    private string Piece(string text)
    {
        var start = _random.Next(text.Length);
        return text.Substring(start, _random.Next(1, text.Length - start + 1));
    }

    private string FlipCase(string text) =>
        string.Concat(text.Select(c => _random.Next(2) == 0 ? c : char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));
}
