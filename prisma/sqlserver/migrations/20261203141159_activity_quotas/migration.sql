BEGIN TRY

BEGIN TRAN;

-- AlterTable
ALTER TABLE [dbo].[api_tokens] ADD [max_bytes] BIGINT;

-- AlterTable
ALTER TABLE [dbo].[api_tokens] ADD [max_files] INT;

-- CreateTable
CREATE TABLE [dbo].[activity] (
    [id] INT NOT NULL IDENTITY(1,1),
    [at] DATETIME2 NOT NULL,
    [actor] NVARCHAR(64) NOT NULL,
    [action] NVARCHAR(32) NOT NULL,
    [job_id] NVARCHAR(36),
    [detail] NVARCHAR(2000),
    CONSTRAINT [activity_pkey] PRIMARY KEY CLUSTERED ([id])
);

-- CreateIndex
CREATE NONCLUSTERED INDEX [activity_actor_id_idx] ON [dbo].[activity]([actor], [id]);

COMMIT TRAN;

END TRY
BEGIN CATCH

IF @@TRANCOUNT > 0
BEGIN
    ROLLBACK TRAN;
END;
THROW

END CATCH
