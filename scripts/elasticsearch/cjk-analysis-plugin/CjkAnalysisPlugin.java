package eswi.analysis;

import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * The built-in `cjk` analyzer for the integ-test distribution, which ships without the
 * analysis-common module that normally provides it. Same Lucene class and stop-word handling as
 * Elasticsearch's own CjkAnalyzerProvider, so the index templates run unchanged in tests.
 */
public final class CjkAnalysisPlugin extends Plugin implements AnalysisPlugin {
    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        return Map.of("cjk", (indexSettings, environment, name, settings) -> {
            CJKAnalyzer analyzer = new CJKAnalyzer(
                Analysis.parseStopWords(environment, settings, CJKAnalyzer.getDefaultStopSet()));
            return new AbstractIndexAnalyzerProvider<CJKAnalyzer>(name, settings) {
                @Override
                public CJKAnalyzer get() {
                    return analyzer;
                }
            };
        });
    }

    @Override
    public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
        return List.of(new PreBuiltAnalyzerProviderFactory("cjk", CachingStrategy.LUCENE, CJKAnalyzer::new));
    }
}
