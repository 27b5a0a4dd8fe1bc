using System.Text.RegularExpressions;
using Exchange.Client;
using Exchange.Tests.Smoke;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Exchange.Tests.Client;

/// <summary>The README's C# snippet compiles as written, in a new console project referencing the SDK as built.</summary>
public sealed partial class ReadmeSnippetTests
{
    [Fact]
    public void The_csharp_snippet_in_the_readme_compiles()
    {
        var readme = File.ReadAllText(Path.Combine(Tools.RepositoryRoot(), "README.md"));
        var section = readme[readme.IndexOf("### From C#", StringComparison.Ordinal)..];
        var snippet = CSharpBlock().Match(section);
        Assert.True(snippet.Success, "no ```csharp block under '### From C#'");

        _ = typeof(ExchangeClient);
        _ = typeof(Exchange.V1.Dataset);
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location))
            .Distinct(StringComparer.Ordinal)
            .Select(path => MetadataReference.CreateFromFile(path));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReadmeSnippet",
            [CSharpSyntaxTree.ParseText(snippet.Groups[1].Value, parse), CSharpSyntaxTree.ParseText(ImplicitUsings, parse)],
            references, new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        using var assembly = new MemoryStream();
        var result = compilation.Emit(assembly);
        Assert.True(result.Success, string.Join('\n', result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
    }

    /// <summary>What a new console project (<c>dotnet new console</c>, ImplicitUsings on) has, as a reader's program would.</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
